// node's `http.IncomingMessage` and `http.ServerResponse` for the guest,
// as the Node bridge hands them to a listener. Both are fetch-to-node's,
// which keeps node's own code for heads, headers, reads and writes, with:
// - the response going straight out through WASI (the head when the app
//   sends it, each chunk as it is written, the end at 'finish'), not into a
//   web Response the bridge would read back (that round trip cost ~0.25 ms
//   of an Express request);
// - a `socket` (and `connection`) that says who the client is, made only if
//   something reads it.
// These are the guest's `http.IncomingMessage` and `http.ServerResponse`,
// which apps and frameworks extend (Express's `app.request` and
// `app.response` do), so the objects they serve are still these.

import { EventEmitter } from 'events';
import { FetchIncomingMessage, FetchServerResponse } from 'fetch-to-node';
import { SEND_FILE } from './files.js';
import { failResponse, startResponse } from './wasi-http.js';

const CLIENT = Symbol('fabricks.client');
const SOCKET = Symbol('fabricks.socket');

/** The connection as Node code sees it: open, plain HTTP, with the client's
 * address (from `ip:port`, the host's `spin-client-addr`). (on-finished, and
 * so body-parser, treat a request without a readable socket as finished.) */
class Socket extends EventEmitter {
  constructor(client = '') {
    super();
    const at = client.lastIndexOf(':');
    this.readable = true;
    this.writable = true;
    this.encrypted = false;
    this.remoteAddress = at > 0 ? client.slice(0, at).replace(/^\[|\]$/g, '') : undefined;
    this.remotePort = at > 0 ? Number(client.slice(at + 1)) : undefined;
    this.remoteFamily = client.startsWith('[') ? 'IPv6' : 'IPv4';
  }

  destroy() {
    this.readable = false;
    this.writable = false;
    return this;
  }

  setTimeout() {
    return this;
  }

  setNoDelay() {
    return this;
  }

  setKeepAlive() {
    return this;
  }
}

export class WasiIncomingMessage extends FetchIncomingMessage {
  /** `client` is the client's `ip:port` ('' when unknown). */
  constructor(client) {
    super();
    this[CLIENT] = client;
  }
}

export class WasiServerResponse extends FetchServerResponse {
  #responseOut;
  #writer = null;
  #settle = null;
  #done = false;

  /** `responseOut` is the request's WASI response outparam; without it (an
   * app making a response of its own), the response is fetch-to-node's. */
  constructor(req, options, responseOut) {
    super(req, options);
    this.#responseOut = responseOut;
    /** Settles when the response is sent to its end (or cut short). */
    this.sent = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  // fetch-to-node calls this once, as the head is sent, with the chunks
  // written so far and whether the response already finished.
  _toFetchResponse(status, statusText, headers, written, finished) {
    if (this.#responseOut === undefined) return super._toFetchResponse(status, statusText, headers, written, finished);
    // 204, 304 and HEAD responses have no body (a HEAD keeps its Content-Length).
    const writer = startResponse(this.#responseOut, status, headers, this._hasBody);
    this.#writer = writer;
    if (!this._hasBody) {
      this.#end();
      return null;
    }
    for (const chunk of written) writer.write(chunk);
    if (finished) {
      this.#end();
    } else {
      this.on('_dataWritten', (event) => {
        if (!this.#done) writer.write(this.dataFromDataWrittenEvent(event));
      });
      this.once('finish', () => this.#end());
    }
    return null;
  }

  /** Send `count` bytes of `file` (files.js's open file) from `start` as
   * the body, copied by the host; how many were sent, or `false` if this
   * response cannot (see files.js's SEND_FILE). The response is not ended. */
  [SEND_FILE](file, start, count) {
    if (this.#responseOut === undefined || this._headerSent || !this._hasBody || this.finished || this.writableCorked) {
      return false;
    }
    // Middleware that replaced `res.write` (compression, say) transforms
    // the body: the file's bytes must go through it.
    if (typeof file.inputStream !== 'function' || Object.hasOwn(this, 'write')) return false;
    this.flushHeaders();
    if (!this.#writer || this.#done) return false;
    const input = file.inputStream(start);
    try {
      return this.#writer.splice(input, count);
    } finally {
      input[Symbol.dispose]?.();
    }
  }

  #end() {
    this.#done = true;
    try {
      this.#writer.finish();
    } catch (error) {
      console.error('fabricks: the response could not be finished:', error?.message ?? error);
    }
    this.#settle();
  }

  /** After the app failed: a 500 if nothing was sent yet, else the response
   * cut short (the client sees it end early, not complete). */
  fail() {
    if (this.#done) return;
    this.#done = true;
    if (this.#writer) this.#writer.abort();
    else failResponse(this.#responseOut);
    this.#settle();
  }
}

/** `socket` and its older name `connection` on `prototype`: read through
 * `socketOf`, and set (either name) to another socket in place. */
function defineSocket(prototype, socketOf) {
  const accessors = {
    configurable: true,
    get() {
      return socketOf(this);
    },
    set(value) {
      this[SOCKET] = value;
    },
  };
  Object.defineProperty(prototype, 'socket', accessors);
  Object.defineProperty(prototype, 'connection', accessors);
}

// The request's socket is made when first read; the response's is the
// request's (node's response and request share one).
defineSocket(WasiIncomingMessage.prototype, (req) => (req[SOCKET] ??= new Socket(req[CLIENT])));
defineSocket(WasiServerResponse.prototype, (res) => res[SOCKET] ?? res.req?.socket ?? null);
