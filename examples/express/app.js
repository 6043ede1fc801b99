import express from 'express';
import cookieParser from 'cookie-parser';
import { createHash } from 'node:crypto';

export const app = express();
app.use(express.json({ limit: '2mb' }));
app.use(express.urlencoded({ extended: false }));
app.use(cookieParser());

app.get('/', (req, res) => res.send('Hello from Express!'));

// Module state lives as long as the instance, as in a node process.
let visits = 0;
app.get('/visits', (req, res) => res.send(String(++visits)));

app.get('/users/:id', (req, res) => {
  const tags = req.query.tag === undefined ? [] : [].concat(req.query.tag);
  res.json({ id: Number(req.params.id), tags, verbose: req.query.verbose ?? null });
});

app.post('/echo', (req, res) => res.json({ received: req.body }));

app.post('/form', (req, res) => {
  const tags = req.body.tag === undefined ? [] : [].concat(req.body.tag);
  res.json({ name: req.body.name ?? null, tags });
});

app.get('/boom', () => {
  throw new Error('this view fails on purpose');
});

app.get('/stream', (req, res) => {
  res.type('text/plain');
  res.write('0\n');
  res.write('1\n');
  res.end('2\n');
});

app.post('/upload', express.raw({ type: '*/*', limit: '2mb' }), (req, res) => {
  const hash = createHash('sha256').update(req.body).digest('hex');
  res.json({ length: req.body.length, sha256: hash });
});

app.get('/binary', (req, res) => {
  const bytes = Buffer.alloc(1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
  res.type('application/octet-stream').send(bytes);
});

app.get('/redirect', (req, res) => res.redirect(`${req.protocol}://${req.get('host')}/`));

app.get('/cookie', (req, res) => {
  res.cookie('flavor', 'oatmeal');
  res.send('cookie set');
});

app.get('/cookie-read', (req, res) => res.json({ flavor: req.cookies.flavor ?? null }));

app.use((req, res) => res.status(404).send('Not Found'));

app.use((error, req, res, next) => {
  console.error(`error: ${error.message}`);
  res.status(error.status ?? 500).send(error.status === 400 ? 'Bad Request' : 'Internal Server Error');
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, () => console.log(`listening on ${port}`));
