// A Hono app serving a folder with @hono/node-server's serveStatic, its
// root relative to the working directory, as under `node app.js`.
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';

export const app = new Hono();
app.use('/static/*', serveStatic({ root: './' }));
app.get('/', (c) => c.text('Hello from Hono!'));
