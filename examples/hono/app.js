import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { stream } from 'hono/streaming';

export const app = new Hono();

app.get('/', (c) => c.text('Hello from Hono!'));

app.get('/users/:id{[0-9]+}', (c) =>
  c.json({ id: Number(c.req.param('id')), tags: c.req.queries('tag') ?? [], verbose: c.req.query('verbose') ?? null }),
);

app.post('/echo', async (c) => c.json({ received: await c.req.json() }));

app.post('/form', async (c) => {
  const form = await c.req.parseBody({ all: true });
  const tags = form.tag === undefined ? [] : [].concat(form.tag);
  return c.json({ name: form.name ?? null, tags });
});

app.get('/boom', () => {
  throw new Error('this view fails on purpose');
});

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
