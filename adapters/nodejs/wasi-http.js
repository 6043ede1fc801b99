// The WASI side of one HTTP exchange, for JavaScript guests: the incoming
// request as a web `Request` (its body streamed from the WASI input stream),
// and a web `Response` written back to WASI (status and headers first, then
// the body chunk by chunk). Bridges (fetch, node) build on these.

import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.10';

const READ_CHUNK = 65536n;
// The most `blockingWriteAndFlush` takes in one call.
const ONE_CALL_WRITE = 4096;
// The most one `blockingSplice` is asked to copy (the host reads a file
// 64 KiB at a time).
const SPLICE_CHUNK = 1 << 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder('latin1');

// Headers about the connection, which the host owns: WASI refuses them.
const FORBIDDEN = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings',
]);

export function requestMethod(incoming) {
  const method = incoming.method();
  return method.tag === 'other' ? method.val.toUpperCase() : method.tag.toUpperCase();
}

/**
 * The incoming request's headers: `headers`, the (name, value) pairs for the
 * app, values as text, and `client`, the host's `spin-client-addr` (the
 * client's `ip:port`; '' without one). The `spin-*` headers Spin-style hosts
 * add describe the route and the client to the adapter, not to a Node app,
 * and are left out of its request: each header a request carries costs the
 * interpreter microseconds, and Spin adds seven. (Indexed loops, not `for
 * of` with destructuring, which runs the iterator protocol per header.)
 */
export function requestHeaders(incoming) {
  const fields = incoming.headers();
  const entries = fields.entries();
  fields[Symbol.dispose]?.();
  const headers = [];
  let client = '';
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const key = entry[0].toLowerCase();
    if (!key.startsWith('spin-')) headers.push([key, decoder.decode(entry[1])]);
    else if (key === 'spin-client-addr') client = decoder.decode(entry[1]);
  }
  return { headers, client };
}

/** The host (and port) the client asked for. */
export function requestAuthority(incoming, headers) {
  return incoming.authority() || headers.find(([k]) => k === 'host')?.[1] || 'localhost';
}

/** The request target as the client sent it (path and query). */
export function requestTarget(incoming) {
  return incoming.pathWithQuery() || '/';
}

/** The absolute URL the client asked for. */
export function requestUrl(incoming, headers) {
  const scheme = incoming.scheme();
  const protocol = scheme && scheme.tag === 'HTTPS' ? 'https' : 'http';
  return `${protocol}://${requestAuthority(incoming, headers)}${requestTarget(incoming)}`;
}

/**
 * Let the host drop the incoming request, once its head is read and its
 * body (if any) taken: until then the host keeps it (method, URL, headers),
 * and the bindings never drop it themselves (their finalizer is unregistered
 * by the first method call), so each request the instance served stayed.
 */
export function dropRequest(incoming) {
  incoming[Symbol.dispose]?.();
}

/** The request body as a web ReadableStream of Uint8Array chunks. */
export function requestBodyStream(incoming) {
  const body = incoming.consume();
  const stream = body.stream();
  let done = false;
  const close = () => {
    if (done) return;
    done = true;
    stream[Symbol.dispose]?.();
    dropIncomingBody(body);
  };
  return new ReadableStream({
    pull(controller) {
      try {
        const chunk = stream.blockingRead(READ_CHUNK);
        // A Uint8Array of this realm: what the engine returns may not pass
        // `instanceof Uint8Array` (Node stream polyfills check that).
        if (chunk.length > 0) controller.enqueue(new Uint8Array(chunk));
      } catch (error) {
        close();
        // `closed` is the end of the body; anything else (cut off at the
        // host's limit, client gone) must not pass for the whole body.
        if (error?.payload?.tag === 'closed' || error?.tag === 'closed') controller.close();
        else controller.error(new Error('the request body could not be read to its end'));
      }
    },
    cancel() {
      close();
    },
  });
}

function dropIncomingBody(incomingBody) {
  try {
    incomingBody[Symbol.dispose]?.();
  } catch (_) {
    // already gone
  }
}

/** Send `status` and `headers` ([name, value] text pairs); returns a writer. */
export function startResponse(responseOut, status, headers, sendBody = true) {
  const entries = [];
  for (const [name, value] of headers) {
    if (!FORBIDDEN.has(name.toLowerCase())) entries.push([name, encoder.encode(String(value))]);
  }
  const response = new OutgoingResponse(Fields.fromList(entries));
  // A new response says 200 already: one call into the host fewer (~10 us).
  if (status !== 200) response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
  const stream = body.write();
  let clientGone = false;
  let flushPending = false;
  return {
    // A small chunk (most responses are one) takes one call into the host;
    // a larger one is written as the stream permits (the host takes up to
    // what `checkWrite` says at once: 1 MiB in wasmtime), not in 4 KiB
    // blocking writes, each of which waited for the host to take the one before.
    write(chunk) {
      if (!sendBody || clientGone || !chunk || chunk.length === 0) return;
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
      try {
        if (bytes.length <= ONE_CALL_WRITE) {
          stream.blockingWriteAndFlush(bytes);
          return;
        }
        for (let at = 0; at < bytes.length; ) {
          const allowed = Number(stream.checkWrite());
          if (allowed === 0) {
            const ready = stream.subscribe();
            ready.block();
            ready[Symbol.dispose]?.();
            continue;
          }
          const end = Math.min(bytes.length, at + allowed);
          stream.write(bytes.subarray(at, end));
          at = end;
        }
        stream.flush();
        flushPending = true;
      } catch (_) {
        clientGone = true;
        console.error('fabricks: the client went away; the rest of the response is dropped');
      }
    },
    // `count` bytes of `input` (a WASI input stream) copied into the body by
    // the host, a chunk a call; how many it copied (fewer if the client went
    // away or the input ended early).
    splice(input, count) {
      if (!sendBody || clientGone) return 0;
      let sent = 0;
      try {
        while (sent < count) {
          const copied = Number(stream.blockingSplice(input, BigInt(Math.min(count - sent, SPLICE_CHUNK))));
          if (copied === 0) break;
          sent += copied;
        }
      } catch (_) {
        // The client went away, or the input ended before `count`.
        clientGone = true;
        console.error('fabricks: the body could not be sent to its end; the rest of the response is dropped');
      }
      return sent;
    },
    finish() {
      // What was written must be out of the stream before it is dropped.
      if (flushPending && sendBody && !clientGone) {
        try {
          stream.blockingFlush();
        } catch (_) {
          clientGone = true;
        }
      }
      stream[Symbol.dispose]?.();
      try {
        OutgoingBody.finish(body, undefined);
      } catch (error) {
        // A HEAD response keeps its Content-Length but sends no body.
        if (sendBody && !clientGone) throw error;
      }
    },
    abort() {
      stream[Symbol.dispose]?.();
      body[Symbol.dispose]?.();
    },
  };
}

/** Answer with a plain-text error (nothing was sent yet). */
export function failResponse(responseOut, status = 500, message = 'Internal Server Error\n') {
  const writer = startResponse(responseOut, status, [['content-type', 'text/plain; charset=utf-8'], ['content-length', String(encoder.encode(message).length)]]);
  writer.write(message);
  writer.finish();
}
