import { Hono } from 'hono';
import http from 'node:http';

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

// GET /http-get?url=...: the same through node's own client, as libraries
// built on http.request (axios, node-fetch, got) make their calls.
app.get('/http-get', async (c) => {
  try {
    const { status, body, type } = await new Promise((resolve, reject) => {
      http
        .get(c.req.query('url'), (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString(), type: res.headers['content-type'] }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    return c.text(`${status} ${type} ${body}`);
  } catch (error) {
    return c.text(`refused: ${error.code}: ${error.message}`, 502);
  }
});

// POST /http-post?url=...: the request body forwarded with http.request.
app.post('/http-post', async (c) => {
  const payload = await c.req.text();
  const url = new URL(c.req.query('url'));
  const answer = await new Promise((resolve, reject) => {
    const req = http.request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'text/plain' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      },
    );
    req.on('error', reject);
    req.write(payload.slice(0, 3));
    req.end(payload.slice(3));
  });
  return c.text(answer);
});
