import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const app = Fastify({ bodyLimit: 2 * 1024 * 1024 });
app.register(cookie);
app.register(formbody);
app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (req, body, done) => done(null, body));

app.get('/', async () => 'Hello from Fastify!');

// Module state lives as long as the instance, as in a node process.
let visits = 0;
app.get('/visits', async () => String(++visits));

app.get('/users/:id', async (req) => {
  const tags = req.query.tag === undefined ? [] : [].concat(req.query.tag);
  return { id: Number(req.params.id), tags, verbose: req.query.verbose ?? null };
});

app.post('/echo', async (req) => ({ received: req.body }));

app.post('/form', async (req) => {
  const tags = req.body.tag === undefined ? [] : [].concat(req.body.tag);
  return { name: req.body.name ?? null, tags };
});

app.get('/boom', async () => {
  throw new Error('this view fails on purpose');
});

app.get('/stream', async (req, reply) => {
  reply.type('text/plain');
  return reply.send(Readable.from(['0\n', '1\n', '2\n']));
});

app.get('/redirect', async (req, reply) => reply.redirect('/'));

app.get('/cookie', async (req, reply) => {
  reply.setCookie('flavor', 'oatmeal', { path: '/' });
  return 'cookie set';
});

app.get('/cookie-read', async (req) => ({ flavor: req.cookies.flavor ?? null }));

app.post('/upload', async (req) => ({ length: req.body.length, sha256: createHash('sha256').update(req.body).digest('hex') }));

app.get('/binary', async (req, reply) => {
  const bytes = Buffer.alloc(1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
  return reply.type('application/octet-stream').send(bytes);
});

app.setNotFoundHandler((req, reply) => reply.code(404).type('text/plain').send('Not Found'));

app.setErrorHandler((error, req, reply) => {
  console.error(`error: ${error.message}`);
  const status = error.statusCode ?? 500;
  reply.code(status).type('text/plain').send(status === 400 ? 'Bad Request' : 'Internal Server Error');
});

app.listen({ port: Number(process.env.PORT ?? 3000) });
