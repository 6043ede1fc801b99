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

const setImmediateShim = (fn, ...args) => setTimeout(fn, 0, ...args);
const clearImmediateShim = (handle) => clearTimeout(handle);

const global = globalThis;

export { process, Buffer, global, setImmediateShim as setImmediate, clearImmediateShim as clearImmediate };
