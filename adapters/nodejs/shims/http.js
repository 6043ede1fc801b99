// `http` for the guest: the request/response classes Express and friends
// extend (fetch-to-node's, over web streams), and a server whose `listen`
// only records the app: the host owns the socket.
import { FetchIncomingMessage, FetchServerResponse, STATUS_CODES } from 'fetch-to-node';
import { EventEmitter } from 'events';
import { registerListener } from '../listener.js';

export { STATUS_CODES };
export const IncomingMessage = FetchIncomingMessage;
export const ServerResponse = FetchServerResponse;
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
  listen(...args) {
    const callback = args.find((a) => typeof a === 'function');
    if (callback) queueMicrotask(callback);
    this.listening = true;
    return this;
  }
  close(callback) {
    if (callback) queueMicrotask(callback);
    return this;
  }
  address() {
    return { address: '127.0.0.1', family: 'IPv4', port: 3000 };
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

function noOutbound() {
  throw new Error('fabricks: use fetch() for outbound HTTP in a guest; http.request is not available');
}
export const request = noOutbound;
export const get = noOutbound;
export const maxHeaderSize = 16384;
export function validateHeaderName() {}
export function validateHeaderValue() {}

export default {
  STATUS_CODES, METHODS, IncomingMessage, ServerResponse, Server, createServer, Agent, globalAgent,
  request, get, maxHeaderSize, validateHeaderName, validateHeaderValue,
};
