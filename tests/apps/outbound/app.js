import { Hono } from 'hono';

export const app = new Hono();

// GET /fetch?url=...: fetch the URL and say what happened.
app.get('/fetch', async (c) => {
  try {
    const response = await fetch(c.req.query('url'));
    return c.text(`${response.status} ${await response.text()}`);
  } catch (error) {
    return c.text(`refused: ${error}`, 502);
  }
});
