// `http` for the guest: the request/response classes Express and friends
// extend (../messages.js), a server whose `listen` only
// records the app (the host owns the socket), and node's client over the
// guest's fetch.
import { FetchOutgoingMessage, STATUS_CODES } from 'fetch-to-node';
import { EventEmitter } from 'events';
import { registerListener } from '../listener.js';
import { WasiIncomingMessage, WasiServerResponse } from '../messages.js';
import { ClientRequest, clientFor } from '../http-client.js';

export { STATUS_CODES };
export const IncomingMessage = WasiIncomingMessage;
export const ServerResponse = WasiServerResponse;
// `cookies` (cookie-session) sets headers through OutgoingMessage.prototype.
export const OutgoingMessage = FetchOutgoingMessage;
export const METHODS = [
  'ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE',
  'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH',
  'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK',
  'UNLOCK', 'UNSUBSCRIBE',
];

export class Server extends EventEmitter {
  constructor(options, listener) {
    super();
    if (typeof options === 'function') listener = options;
    if (listener) this.on('request', listener);
    registerListener((req, res) => this.emit('request', req, res));
  }
  /** Records the port asked for and says it listens (a callback and the
   * 'listening' event, as node's does once bound): the host owns the socket. */
  listen(...args) {
    const callback = args.find((a) => typeof a === 'function');
    const first = args[0];
    const port = typeof first === 'object' && first !== null ? first.port : first;
    if (Number.isInteger(Number(port)) && port !== undefined && port !== null) this.port = Number(port);
    this.listening = true;
    queueMicrotask(() => {
      callback?.();
      this.emit('listening');
    });
    return this;
  }
  close(callback) {
    if (callback) queueMicrotask(callback);
    return this;
  }
  address() {
    return { address: '127.0.0.1', family: 'IPv4', port: this.port ?? 3000 };
  }
  setTimeout() {
    return this;
  }
}

export function createServer(options, listener) {
  return new Server(options, listener);
}

export class Agent {
  constructor(options) {
    this.options = options;
  }
}
export const globalAgent = new Agent();

// The client side: over the guest's fetch (../http-client.js).
export { ClientRequest };
export const { request, get } = clientFor('http:');
export const maxHeaderSize = 16384;
export function validateHeaderName() {}
export function validateHeaderValue() {}

export default {
  STATUS_CODES, METHODS, IncomingMessage, ServerResponse, OutgoingMessage, Server, createServer, Agent, globalAgent,
  request, get, ClientRequest, maxHeaderSize, validateHeaderName, validateHeaderValue,
};
