// The Node bridge: serves `(req, res)` listeners (Express, Connect, a
// function passed to `http.createServer`) with node's request and response
// objects (./messages.js: the request's body read from WASI as the app
// reads it, the response written to WASI as the app writes it).

import { dropRequest, requestAuthority, requestBodyStream, requestHeaders, requestMethod, requestTarget } from './wasi-http.js';
import { WasiIncomingMessage, WasiServerResponse } from './messages.js';

/** The request as node's server hands it to a listener, with every header
 * as the client sent it (a web Request would drop Content-Length, which body
 * parsers need); the WASI request itself is dropped. */
function nodeRequest(incoming) {
  const method = requestMethod(incoming);
  const { headers, client } = requestHeaders(incoming);
  const req = new WasiIncomingMessage(client);
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
  if (!headers.some((header) => header[0] === 'host')) lines.push('host', requestAuthority(incoming, headers));
  for (let i = 0; i < headers.length; i++) lines.push(headers[i][0], headers[i][1]);
  req._addHeaderLines(lines, lines.length);
  // No stream: a GET or HEAD has no body, which node's request reads as ended.
  req._stream = method !== 'GET' && method !== 'HEAD' ? requestBodyStream(incoming) : null;
  dropRequest(incoming);
  return req;
}

export function nodeHandler(listener) {
  return {
    async handle(incoming, responseOut) {
      const req = nodeRequest(incoming);
      const res = new WasiServerResponse(req, undefined, responseOut);
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
