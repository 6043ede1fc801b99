// node's HTTP client (`http.request`, `https.request`, `get`) for the guest,
// over its `fetch` (wasi:http/outgoing-handler), so the host's
// allowed_outbound_hosts applies and TLS is the host's. The request body is
// gathered until `end()`; the response streams into an IncomingMessage-like
// Readable. A refused or failed request is an 'error' on the request, with
// node's `code` (ECONNREFUSED, ETIMEDOUT, ECONNRESET).

import { Buffer } from 'buffer';
import { Readable, Writable } from 'stream';
import { STATUS_CODES } from 'fetch-to-node';

// The guest's fetch says only "NetworkError" whether the host refused the
// request (a host not in allowed_outbound_hosts) or the server could not be
// reached; the server's log says which (`outbound_refused`).
function connectionError(error, url) {
  const text = String(error?.message ?? error);
  const wrapped = new Error(
    `connect ECONNREFUSED ${url.host} (fabricks: ${text}: either ${url.protocol}//${url.host} is not in the component's ` +
      'allowed_outbound_hosts (the server\'s log says so) or nothing answered there)',
  );
  Object.assign(wrapped, { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', cause: error });
  return wrapped;
}

/** The URL a node request names, from `(url | options)[, options]`. */
function requestUrl(input, options, defaultProtocol) {
  if (typeof input === 'string' || input instanceof URL) {
    const url = new URL(String(input));
    return { url, options: options ?? {} };
  }
  const opts = input ?? {};
  const protocol = opts.protocol ?? defaultProtocol;
  const host = opts.hostname ?? (opts.host ? String(opts.host).replace(/:\d+$/, '') : 'localhost');
  const port = opts.port ?? (opts.host && /:\d+$/.test(opts.host) ? opts.host.split(':').pop() : '');
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const url = new URL(`${protocol}//${bracketed}${port ? `:${port}` : ''}${opts.path ?? '/'}`);
  if (opts.auth) {
    const [user, ...rest] = String(opts.auth).split(':');
    url.username = user;
    url.password = rest.join(':');
  }
  return { url, options: opts };
}

export class ClientResponse extends Readable {
  constructor(response) {
    super();
    this.statusCode = response.status;
    this.statusMessage = response.statusText || STATUS_CODES[response.status] || '';
    this.httpVersion = '1.1';
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.headers = {};
    this.rawHeaders = [];
    for (const [name, value] of response.headers) {
      this.rawHeaders.push(name, value);
      if (name === 'set-cookie') continue;
      this.headers[name] = name in this.headers ? `${this.headers[name]}, ${value}` : value;
    }
    const cookies = response.headers.getSetCookie?.() ?? [];
    if (cookies.length > 0) this.headers['set-cookie'] = cookies;
    this.trailers = {};
    this.complete = false;
    this.reader = response.body?.getReader() ?? null;
  }
  _read() {
    if (!this.reader) {
      this.complete = true;
      this.push(null);
      return;
    }
    this.reader.read().then(
      ({ done, value }) => {
        if (done) {
          this.complete = true;
          this.push(null);
        } else {
          this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        }
      },
      (error) => this.destroy(error),
    );
  }
  setTimeout(ms, callback) {
    if (callback) this.once('timeout', callback);
    return this;
  }
}

export class ClientRequest extends Writable {
  constructor(input, options, callback, defaultProtocol) {
    super();
    if (typeof options === 'function') [options, callback] = [undefined, options];
    const { url, options: opts } = requestUrl(input, options, defaultProtocol);
    this.url = url;
    this.method = String(opts.method ?? 'GET').toUpperCase();
    this.path = url.pathname + url.search;
    this.host = url.hostname;
    this.protocol = url.protocol;
    this.headers = {};
    for (const [name, value] of Object.entries(opts.headers ?? {})) this.setHeader(name, value);
    this.chunks = [];
    this.aborted = false;
    this.finished = false;
    this.reusedSocket = false;
    this.timeoutMs = opts.timeout ?? 0;
    this.controller = new AbortController();
    this.signal = opts.signal;
    this.signal?.addEventListener('abort', () => this.destroy(Object.assign(new Error('The operation was aborted'), { code: 'ABORT_ERR', name: 'AbortError' })));
    if (callback) this.once('response', callback);
    this.once('finish', () => this.send());
  }
  setHeader(name, value) {
    this.headers[String(name).toLowerCase()] = value;
    return this;
  }
  getHeader(name) {
    return this.headers[String(name).toLowerCase()];
  }
  getHeaders() {
    return { ...this.headers };
  }
  getHeaderNames() {
    return Object.keys(this.headers);
  }
  hasHeader(name) {
    return String(name).toLowerCase() in this.headers;
  }
  removeHeader(name) {
    delete this.headers[String(name).toLowerCase()];
  }
  flushHeaders() {}
  setNoDelay() {}
  setSocketKeepAlive() {}
  setTimeout(ms, callback) {
    this.timeoutMs = ms;
    if (callback) this.once('timeout', callback);
    return this;
  }
  abort() {
    this.aborted = true;
    this.destroy();
  }
  _write(chunk, encoding, done) {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
    done();
  }
  _destroy(error, done) {
    this.controller.abort();
    done(error);
  }
  async send() {
    const headers = new Headers();
    for (const [name, value] of Object.entries(this.headers)) {
      for (const one of [].concat(value)) headers.append(name, String(one));
    }
    headers.delete('host');
    headers.delete('connection');
    const hasBody = this.chunks.length > 0 && this.method !== 'GET' && this.method !== 'HEAD';
    const body = hasBody ? Buffer.concat(this.chunks) : undefined;
    let timer = null;
    if (this.timeoutMs > 0) {
      timer = setTimeout(() => {
        this.emit('timeout');
        if (this.listenerCount('timeout') === 0) this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      }, this.timeoutMs);
    }
    let response;
    try {
      const target = new URL(this.url.href);
      if (target.username) {
        headers.set('authorization', `Basic ${btoa(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`)}`);
        target.username = '';
        target.password = '';
      }
      response = await fetch(target.href, { method: this.method, headers, body, redirect: 'manual', signal: this.controller.signal });
    } catch (error) {
      if (timer) clearTimeout(timer);
      if (!this.destroyed) this.destroy(connectionError(error, this.url));
      return;
    } finally {
      if (timer && response) clearTimeout(timer);
    }
    if (this.destroyed) return;
    this.res = new ClientResponse(response);
    this.emit('response', this.res);
    if (this.listenerCount('response') === 0) this.res.resume();
  }
}

/** `request` and `get` for a protocol ('http:' or 'https:'). */
export function clientFor(defaultProtocol) {
  function request(input, options, callback) {
    return new ClientRequest(input, options, callback, defaultProtocol);
  }
  function get(input, options, callback) {
    const req = request(input, options, callback);
    req.end();
    return req;
  }
  return { request, get };
}
