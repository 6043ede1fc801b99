// Node's globals for the guest (injected into the bundle): process, Buffer,
// global, setImmediate. Buffer's UTF-8 paths use the engine's TextEncoder and
// TextDecoder, far faster than the polyfill's byte loops.
import process from 'process/browser.js';
import { Buffer } from 'buffer';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const isUtf8 = (encoding) => encoding === undefined || encoding === null || /^utf-?8$/i.test(String(encoding));

const originalFrom = Buffer.from;
Buffer.from = function from(value, encodingOrOffset, length) {
  if (typeof value === 'string' && isUtf8(encodingOrOffset)) {
    const bytes = encoder.encode(value);
    return originalFrom.call(Buffer, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return originalFrom.call(Buffer, value, encodingOrOffset, length);
};
const originalToString = Buffer.prototype.toString;
Buffer.prototype.toString = function toString(encoding, start, end) {
  if (isUtf8(encoding)) {
    const from = start === undefined ? 0 : Math.max(0, start | 0);
    const to = end === undefined ? this.length : Math.min(this.length, end | 0);
    return decoder.decode(this.subarray(from, to));
  }
  return originalToString.call(this, encoding, start, end);
};
const originalByteLength = Buffer.byteLength;
Buffer.byteLength = function byteLength(value, encoding) {
  if (typeof value === 'string' && isUtf8(encoding)) return encoder.encode(value).byteLength;
  return originalByteLength.call(Buffer, value, encoding);
};

process.env = process.env || {};
process.env.NODE_ENV = process.env.NODE_ENV || 'production';
process.versions = process.versions || {};
process.versions.node = process.versions.node || '20.0.0';
process.version = process.version || 'v20.0.0';
process.emitWarning = process.emitWarning || (() => {});
process.hrtime = process.hrtime || ((previous) => {
  const now = performance.now();
  const seconds = Math.floor(now / 1000);
  const nanos = Math.floor((now % 1000) * 1e6);
  return previous ? [seconds - previous[0], nanos - previous[1]] : [seconds, nanos];
});
process.hrtime.bigint = process.hrtime.bigint || (() => BigInt(Math.floor(performance.now() * 1e6)));

// The app's top level runs while the build snapshots the engine, where
// timers are refused. Callbacks scheduled then (setTimeout, setImmediate,
// process.nextTick: Fastify's plugin loader, for one) wait in a queue that
// the first request runs (`finishInitialization`).
const deferred = [];
let initializing = true;
const engineSetTimeout = globalThis.setTimeout;
const engineClearTimeout = globalThis.clearTimeout;

function defer(fn, args) {
  const handle = { fn, args, cancelled: false, fabricksDeferred: true };
  deferred.push(handle);
  return handle;
}

globalThis.setTimeout = function setTimeout(fn, delay, ...args) {
  return initializing ? defer(fn, args) : engineSetTimeout(fn, delay, ...args);
};
globalThis.clearTimeout = function clearTimeout(handle) {
  if (handle && handle.fabricksDeferred) handle.cancelled = true;
  else engineClearTimeout(handle);
};
process.nextTick = function nextTick(fn, ...args) {
  if (initializing) defer(fn, args);
  else queueMicrotask(() => fn(...args));
};
const setImmediateShim = (fn, ...args) => globalThis.setTimeout(fn, 0, ...args);
const clearImmediateShim = (handle) => globalThis.clearTimeout(handle);

/** Run what the app scheduled during initialization; called once, by the
 * first request. */
export async function finishInitialization() {
  initializing = false;
  while (deferred.length > 0) {
    for (const handle of deferred.splice(0)) {
      if (!handle.cancelled) handle.fn(...handle.args);
    }
    await new Promise((resolve) => engineSetTimeout(resolve, 0));
  }
}
globalThis.__fabricksFinishInitialization = finishInitialization;

const global = globalThis;

export { process, Buffer, global, setImmediateShim as setImmediate, clearImmediateShim as clearImmediate };
