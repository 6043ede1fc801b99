import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { stream } from 'hono/streaming';

export const app = new Hono();

app.get('/', (c) => c.text('Hello from Hono!'));

// Module state lives as long as the instance, as in a node process.
let visits = 0;
app.get('/visits', (c) => c.text(String(++visits)));

app.get('/users/:id{[0-9]+}', (c) =>
  c.json({ id: Number(c.req.param('id')), tags: c.req.queries('tag') ?? [], verbose: c.req.query('verbose') ?? null }),
);

app.post('/echo', async (c) => {
  let received;
  try {
    received = await c.req.json();
  } catch {
    return c.text('Bad Request', 400);
  }
  return c.json({ received });
});

app.post('/upload', async (c) => {
  const body = new Uint8Array(await c.req.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return c.json({ length: body.length, sha256 });
});

app.get('/binary', (c) => {
  const bytes = new Uint8Array(1024).map((_, i) => i % 256);
  return c.body(bytes, 200, { 'Content-Type': 'application/octet-stream' });
});

app.post('/form', async (c) => {
  const form = await c.req.parseBody({ all: true });
  const tags = form.tag === undefined ? [] : [].concat(form.tag);
  return c.json({ name: form.name ?? null, tags });
});

app.get('/boom', () => {
  throw new Error('this view fails on purpose');
});

app.notFound((c) => c.text('Not Found', 404));

app.onError((error, c) => {
  console.error(`error: ${error.message}`);
  return c.text('Internal Server Error', 500);
});

app.get('/stream', (c) => {
  c.header('Content-Type', 'text/plain');
  return stream(c, async (s) => {
    for (let i = 0; i < 3; i++) {
      await s.write(`${i}\n`);
      await s.sleep(5);
    }
  });
});

app.get('/redirect', (c) => c.redirect('/'));

app.get('/cookie', (c) => {
  setCookie(c, 'flavor', 'oatmeal');
  return c.text('cookie set');
});

app.get('/cookie-read', (c) => c.json({ flavor: getCookie(c, 'flavor') ?? null }));

export default app;
