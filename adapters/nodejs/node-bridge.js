// The Node bridge: serves `(req, res)` listeners (Express, Connect, a
// function passed to `http.createServer`) with Node-style request and
// response objects over web streams (fetch-to-node), and streams what the
// app writes back through WASI.

import { EventEmitter } from 'events';
import { toFetchResponse, toReqRes } from 'fetch-to-node';
import { decodeLatin1, requestAuthority, requestBodyStream, requestHeaders, requestMethod, requestTarget, requestUrl } from './wasi-http.js';
import { respondWith } from './fetch-bridge.js';

/** What toReqRes reads of a request, with every header as the client sent
 * it (a web Request would drop Content-Length, which body parsers need). */
function nodeRequest(incoming) {
  const method = requestMethod(incoming);
  const { headers, spin } = requestHeaders(incoming);
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const body = hasBody ? requestBodyStream(incoming) : new ReadableStream({ start: (c) => c.close() });
  const authority = requestAuthority(incoming, headers);
  // WASI hosts strip Host and carry it as the authority; Node apps read it
  // (Express's req.hostname, req.get('host')), as node's server passes it on.
  if (!headers.some(([name]) => name === 'host')) headers.unshift(['host', authority]);
  // req.url is the request target as the client sent it (`/files/../x`
  // stays so, for `send` to refuse), not as a URL object normalises it.
  const target = requestTarget(incoming);
  const url = requestUrl(incoming, headers, authority, target);
  return { url, target, method, headers, body, client: decodeLatin1(spin.get('spin-client-addr')) };
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
      const request = nodeRequest(incoming);
      const { req, res } = toReqRes(request);
      req.url = request.target;
      const socket = socketFor(request.client);
      for (const target of [req, res]) {
        Object.defineProperty(target, 'socket', { value: socket, configurable: true, writable: true });
        Object.defineProperty(target, 'connection', { value: socket, configurable: true, writable: true });
      }
      await respondWith(responseOut, request.method, () => {
        listener(req, res);
        return toFetchResponse(res);
      });
    },
  };
}
