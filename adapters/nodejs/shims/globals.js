// Node's globals for the guest (injected into the bundle): process, Buffer,
// global, setImmediate. Buffer's UTF-8 paths use the engine's TextEncoder and
// TextDecoder, far faster than the polyfill's byte loops.
import process from 'process/browser.js';
import { Buffer } from 'buffer';
import { getEnvironment } from 'wasi:cli/environment@0.2.10';
import { CWD, serveFromWasi } from '../files.js';

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

// As `node app.js` in the app's folder: the environment is the component's
// (the build loads the app with the Fabrickfile's; the first request reads
// the one it serves with), and NODE_ENV is unset unless that sets it.
process.env = {};
process.cwd = () => CWD;
// morgan, debug and friends write lines to process.stdout / stderr: they go
// to the component's own, line by line, like console.log and console.error.
function lineWriter(print) {
  let pending = '';
  const decoder = new TextDecoder();
  return {
    isTTY: false,
    writable: true,
    fd: print === console.log ? 1 : 2,
    write(chunk, encoding, callback) {
      pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk);
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) print(line);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (done) queueMicrotask(done);
      return true;
    },
    end() {},
    on() { return this; },
    once() { return this; },
    off() { return this; },
    removeListener() { return this; },
    emit() { return false; },
  };
}
// console.log('%s: %d', ...) formats as node's util.format does.
function format(template, args) {
  let used = 0;
  const text = template.replace(/%([sdifjoOc%])/g, (match, kind) => {
    if (kind === '%') return '%';
    if (used >= args.length) return match;
    const value = args[used++];
    switch (kind) {
      case 's': return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
      case 'd': case 'i': return typeof value === 'object' ? 'NaN' : String(kind === 'i' ? parseInt(value, 10) : Number(value));
      case 'f': return String(parseFloat(value));
      case 'j': try { return JSON.stringify(value); } catch { return '[Circular]'; }
      case 'c': return '';
      default: return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
    }
  });
  return [text, ...args.slice(used)];
}
for (const name of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
  const print = console[name];
  if (typeof print !== 'function') continue;
  console[name] = function (first, ...rest) {
    return typeof first === 'string' && first.includes('%') ? print.apply(console, format(first, rest)) : print.call(console, first, ...rest);
  };
}
// An error's `stack` as node writes it, message first ("Error: no such
// user\n    at handler (app.js:12:9)"): Express's development error page
// and apps that log `err.stack` show what went wrong, not only where.
function nodeStack(error, frames) {
  if (typeof frames !== 'string' || /^\S*(Error|Exception)\b.*\n\s+at /.test(frames)) return frames;
  let header;
  try {
    header = Error.prototype.toString.call(error);
  } catch {
    header = 'Error';
  }
  const lines = frames.split('\n').filter(Boolean).map((frame) => {
    const at = frame.lastIndexOf('@');
    const where = frame.slice(at + 1);
    const name = frame.slice(0, at);
    return name ? `    at ${name} (${where})` : `    at ${where}`;
  });
  return [header, ...lines].join('\n');
}
/** Make `owner`'s `stack` (an accessor, or a value) read node's way. */
function nodeStackOn(owner) {
  const engine = Object.getOwnPropertyDescriptor(owner, 'stack');
  if (!engine?.configurable) return;
  const read = engine.get ?? (() => engine.value);
  Object.defineProperty(owner, 'stack', {
    configurable: true,
    enumerable: engine.enumerable,
    get() {
      const frames = read.call(this);
      return this instanceof Error ? nodeStack(this, frames) : frames;
    },
    set(value) {
      Object.defineProperty(this, 'stack', { value, writable: true, configurable: true, enumerable: false });
    },
  });
}
nodeStackOn(Error.prototype);
// http-errors and friends capture stacks onto their own objects.
if (typeof Error.captureStackTrace === 'function') {
  const capture = Error.captureStackTrace;
  Error.captureStackTrace = function captureStackTrace(target, ...rest) {
    capture.call(Error, target, ...rest);
    if (target instanceof Error) nodeStackOn(target);
  };
}
process.stdout = lineWriter(console.log);
process.stderr = lineWriter(console.error);
process.chdir = () => {
  throw new Error("process.chdir: the guest's working directory is the app's folder");
};
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
// timers are refused. Callbacks due at once (process.nextTick, setImmediate,
// setTimeout 0: Fastify's plugin loader, so `await app.listen()` at the top
// of a module) run then, as microtasks, and the snapshot holds a ready app;
// later ones wait for the first request, which schedules them with their
// delays (`finishInitialization`).
const deferred = [];
const SOON_LIMIT = 100000;
let soonRuns = 0;
let initializing = true;
const engineSetTimeout = globalThis.setTimeout;
const engineClearTimeout = globalThis.clearTimeout;

// Math.random while the build loads the app (an id generator's seed, a
// template cache's key): the engine's would call WASI, which cannot be
// called then. Values drawn then are in the snapshot, as they would be in a
// process started once; the engine's own generator serves requests.
const engineRandom = Math.random;
let seed = 0x2545f491;
Math.random = function random() {
  if (!initializing) return engineRandom();
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};

/** True while the build snapshots the engine (the app's top level). */
export function loadingSnapshot() {
  return initializing;
}

function defer(fn, args, delay) {
  const handle = { fn, args, delay, cancelled: false, fabricksDeferred: true, timer: null };
  deferred.push(handle);
  return handle;
}

/** Run `fn` on a later turn, and, while the build loads the app, not before
 * the first request: crypto's callbacks, whose random bytes and compiled
 * key derivation are there only then. */
export function whenServing(fn) {
  if (initializing) defer(fn, [], 0);
  else engineSetTimeout(fn, 0);
}

// A callback polling itself with setImmediate would never let the build
// finish: past SOON_LIMIT runs, the rest wait for the first request.
function soon(fn, args) {
  if (soonRuns++ >= SOON_LIMIT) return defer(fn, args, 0);
  const handle = { fn, args, cancelled: false, fabricksDeferred: true, timer: null };
  queueMicrotask(() => {
    if (!handle.cancelled) fn(...args);
  });
  return handle;
}

globalThis.setTimeout = function setTimeout(fn, delay, ...args) {
  if (!initializing) return engineSetTimeout(fn, delay, ...args);
  return delay > 0 ? defer(fn, args, delay) : soon(fn, args);
};
globalThis.clearTimeout = function clearTimeout(handle) {
  if (handle && handle.fabricksDeferred) {
    handle.cancelled = true;
    if (handle.timer !== null) engineClearTimeout(handle.timer);
  } else {
    engineClearTimeout(handle);
  }
};
process.nextTick = function nextTick(fn, ...args) {
  if (initializing) soon(fn, args);
  else queueMicrotask(() => fn(...args));
};
const setImmediateShim = (fn, ...args) => globalThis.setTimeout(fn, 0, ...args);
const clearImmediateShim = (handle) => globalThis.clearTimeout(handle);

/** Switch to serving: the real files and environment, and the timers the
 * app set while it loaded; called once, by the first request. */
export async function finishInitialization() {
  initializing = false;
  serveFromWasi();
  for (const [name, value] of getEnvironment()) process.env[name] = value;
  for (const handle of deferred.splice(0)) {
    if (!handle.cancelled) handle.timer = engineSetTimeout(() => handle.fn(...handle.args), handle.delay);
  }
}
globalThis.__fabricksFinishInitialization = finishInitialization;

const global = globalThis;

export { process, Buffer, global, setImmediateShim as setImmediate, clearImmediateShim as clearImmediate };
