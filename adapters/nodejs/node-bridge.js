// The Node bridge: serves `(req, res)` listeners (Express, Connect, a
// function passed to `http.createServer`) with node's request and response
// objects (fetch-to-node's IncomingMessage, the body read from WASI as the
// app reads it; ./server-response.js, which writes to WASI as the app does).

import { EventEmitter } from 'events';
import { FetchIncomingMessage } from 'fetch-to-node';
import { decodeLatin1, requestAuthority, requestBodyStream, requestHeaders, requestMethod, requestTarget } from './wasi-http.js';
import { WasiServerResponse } from './server-response.js';

/** The request as node's server hands it to a listener, with every header
 * as the client sent it (a web Request would drop Content-Length, which body
 * parsers need). */
function nodeRequest(incoming) {
  const method = requestMethod(incoming);
  const { headers, spin } = requestHeaders(incoming);
  const req = new FetchIncomingMessage();
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  req.method = method;
  // req.url is the request target as the client sent it (`/files/../x`
  // stays so, for `send` to refuse), not as a URL object normalises it.
  req.url = requestTarget(incoming);
  req.upgrade = false;
  // WASI hosts strip Host and carry it as the authority; Node apps read it
  // (Express's req.hostname, req.get('host')), as node's server passes it on.
  const lines = [];
  if (!headers.some(([name]) => name === 'host')) lines.push('host', requestAuthority(incoming, headers));
  for (const [name, value] of headers) lines.push(name, value);
  req._addHeaderLines(lines, lines.length);
  // No stream: a GET or HEAD has no body, which node's request reads as ended.
  req._stream = method !== 'GET' && method !== 'HEAD' ? requestBodyStream(incoming) : null;
  return { req, client: decodeLatin1(spin.get('spin-client-addr')) };
}

/** The connection as Node code sees it: open, plain HTTP, with the client's
 * address (`ip:port`, from the host's `spin-client-addr`). (on-finished, and
 * so body-parser, treat a request without a readable socket as finished.) */
function socketFor(client) {
  const at = client.lastIndexOf(':');
  const socket = new EventEmitter();
  Object.assign(socket, {
    readable: true,
    writable: true,
    encrypted: false,
    remoteAddress: at > 0 ? client.slice(0, at).replace(/^\[|\]$/g, '') : undefined,
    remotePort: at > 0 ? Number(client.slice(at + 1)) : undefined,
    remoteFamily: client.startsWith('[') ? 'IPv6' : 'IPv4',
    destroy() {
      this.readable = false;
      this.writable = false;
    },
    setTimeout() {
      return this;
    },
    setNoDelay() {
      return this;
    },
    setKeepAlive() {
      return this;
    },
  });
  return socket;
}

export function nodeHandler(listener) {
  return {
    async handle(incoming, responseOut) {
      const { req, client } = nodeRequest(incoming);
      const res = new WasiServerResponse(req, undefined, responseOut);
      const socket = socketFor(client);
      for (const target of [req, res]) {
        Object.defineProperty(target, 'socket', { value: socket, configurable: true, writable: true });
        Object.defineProperty(target, 'connection', { value: socket, configurable: true, writable: true });
      }
      try {
        listener(req, res);
      } catch (error) {
        console.error('fabricks: the app failed:', error && error.stack ? error.stack : error);
        res.fail();
      }
      await res.sent;
    },
  };
}
