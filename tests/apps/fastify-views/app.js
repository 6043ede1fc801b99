// A Fastify app as an ES module: its folder from import.meta.url, views
// rendered by @fastify/view (ejs), files served by @fastify/static.
import Fastify from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import ejs from 'ejs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const app = Fastify();
app.register(fastifyStatic, { root: path.join(here, 'public'), prefix: '/public/' });
app.register(fastifyView, { engine: { ejs }, root: path.join(here, 'views') });

app.get('/', (request, reply) => reply.view('index.ejs', { name: request.query.name ?? 'reader' }));

await app.listen({ port: 3000 });
