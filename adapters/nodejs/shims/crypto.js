// `crypto` for the guest: hashes, HMACs and key derivation (PBKDF2,
// scrypt) from the compiled kdf component the build composes in
// (adapters/kdf; @noble/hashes' while the build loads the app, where imports
// cannot be called, and for data hashed in many large pieces), random bytes
// from the web crypto the engine provides. Interpreted, a small sha1 (the
// ETag Express computes for every body it sends) took ~180 us, 4 KB ~6 ms.
// Callback forms answer on a later turn, as node's thread pool does: random
// bytes asked for while the build loads the app are drawn at the first
// request, so no two instances share them.
import { Buffer } from 'buffer';
import { pbkdf2 as noblePbkdf2 } from '@noble/hashes/pbkdf2.js';
import { scrypt as nobleScrypt } from '@noble/hashes/scrypt.js';
import { digest as compiledDigest, hmac as compiledHmac, pbkdf2Hmac, scrypt as compiledScrypt } from 'fabricks:crypto/kdf@0.1.0';
import { loadingSnapshot, whenServing } from './globals.js';
import { sha1, md5 } from '@noble/hashes/legacy.js';
import { sha256, sha224 } from '@noble/hashes/sha2.js';
import { sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';

const ALGORITHMS = { sha1, md5, sha256, sha224, sha384, sha512 };

/** A hash's name as node takes it ('SHA-256', 'sha256') in one spelling. */
function normalized(name) {
  return String(name).toLowerCase().replace('-', '');
}

function algorithm(name) {
  const hash = ALGORITHMS[normalized(name)];
  if (!hash) throw new Error(`fabricks: the hash ${name} is not available in a guest`);
  return hash;
}

// The engine's own UTF-8 encoder and base64: the Buffer polyfill's are
// interpreted JavaScript.
const utf8 = new TextEncoder();

function bytes(data, encoding) {
  if (typeof data === 'string') {
    if (!encoding || encoding === 'utf8' || encoding === 'utf-8') return utf8.encode(data);
    return Buffer.from(data, encoding);
  }
  return data instanceof Uint8Array ? data : Buffer.from(data);
}

function output(digest, encoding) {
  if (encoding === 'base64') return btoa(String.fromCharCode.apply(null, digest));
  const buffer = Buffer.from(digest);
  return encoding ? buffer.toString(encoding) : buffer;
}

// Past this many bytes, a hash goes on in @noble/hashes as data comes,
// instead of keeping it all for one compiled call.
const KEEP_AT_MOST = 16 << 20;

/** A hash, or an HMAC when `key` is given: `update` keeps copies of the
 * bytes (the caller may reuse its buffer), `digest` hashes them in one call
 * of the compiled component; past KEEP_AT_MOST bytes, or while the build
 * loads the app, @noble/hashes takes over. */
class Hash {
  constructor(name, key, pieces = [], size = 0, state = null) {
    this.name = name;
    this.key = key;
    this.pieces = pieces;
    this.size = size;
    this.state = state;
    this.done = false;
  }
  update(data, encoding) {
    if (this.done) throw new Error('Digest already called');
    const piece = typeof data === 'string' ? bytes(data, encoding) : new Uint8Array(bytes(data));
    if (this.state) {
      this.state.update(piece);
      return this;
    }
    this.pieces.push(piece);
    this.size += piece.length;
    if (this.size > KEEP_AT_MOST || loadingSnapshot()) this.incremental();
    return this;
  }
  incremental() {
    const hash = algorithm(this.name);
    this.state = this.key ? hmac.create(hash, this.key) : hash.create();
    for (const piece of this.pieces) this.state.update(piece);
    this.pieces = [];
  }
  digest(encoding) {
    if (this.done) throw new Error('Digest already called');
    this.done = true;
    if (!this.state && loadingSnapshot()) this.incremental();
    if (this.state) return output(this.state.digest(), encoding);
    const data = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.size);
    this.pieces = [];
    return output(this.key ? compiledHmac(this.name, this.key, data) : compiledDigest(this.name, data), encoding);
  }
  copy() {
    if (this.done) throw new Error('Digest already called');
    return new Hash(this.name, this.key, [...this.pieces], this.size, this.state && this.state.clone());
  }
}

/** The kdf component's name for a hash (and a check that it has one). */
function hashName(name) {
  algorithm(name);
  return normalized(name);
}

export function createHash(name) {
  return new Hash(hashName(name), null);
}

export function createHmac(name, key) {
  return new Hash(hashName(name), new Uint8Array(bytes(key)));
}

/** `fn`'s result through a node-style callback, on a later turn (at the
 * first request, when asked while the build loads the app). */
function later(callback, fn) {
  whenServing(() => {
    let result;
    try {
      result = fn();
    } catch (error) {
      callback(error);
      return;
    }
    callback(null, result);
  });
}

function snapshotRandomness(what) {
  if (!loadingSnapshot()) return;
  throw new Error(
    `fabricks: ${what} was called while the build loaded the app: bytes drawn then would be the same in every instance. ` +
      'Draw them in a request handler, or pass a callback (it runs at the first request)',
  );
}

export function randomBytes(size, callback) {
  if (callback) return later(callback, () => randomBytes(size));
  snapshotRandomness('crypto.randomBytes');
  const buffer = Buffer.alloc(size);
  for (let at = 0; at < size; at += 65536) {
    globalThis.crypto.getRandomValues(buffer.subarray(at, Math.min(size, at + 65536)));
  }
  return buffer;
}

const KDF_HASHES = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

export function pbkdf2Sync(password, salt, iterations, keylen, digest = 'sha1') {
  const hash = String(digest).toLowerCase().replace('-', '');
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`The value of "iterations" is out of range. It must be >= 1. Received ${iterations}`);
  if (!Number.isInteger(keylen) || keylen < 0) throw new RangeError(`The value of "keylen" is out of range. It must be >= 0. Received ${keylen}`);
  if (keylen === 0) return Buffer.alloc(0);
  if (loadingSnapshot() || !KDF_HASHES.has(hash)) {
    return Buffer.from(noblePbkdf2(algorithm(hash), bytes(password), bytes(salt), { c: iterations, dkLen: keylen }));
  }
  return Buffer.from(pbkdf2Hmac(hash, bytes(password), bytes(salt), iterations, keylen));
}

export function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  if (typeof digest === 'function') [digest, callback] = ['sha1', digest];
  later(callback, () => pbkdf2Sync(password, salt, iterations, keylen, digest));
}

export function scryptSync(password, salt, keylen, options = {}) {
  const N = options.N ?? options.cost ?? 16384;
  const r = options.r ?? options.blockSize ?? 8;
  const p = options.p ?? options.parallelization ?? 1;
  const maxmem = options.maxmem ?? 32 * 1024 * 1024;
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) throw new RangeError('Invalid scrypt params: N must be a power of 2 greater than 1');
  if (128 * N * r > maxmem) throw new RangeError('Invalid scrypt params: memory limit exceeded');
  if (loadingSnapshot()) return Buffer.from(nobleScrypt(bytes(password), bytes(salt), { N, r, p, dkLen: keylen, maxmem: maxmem + 1 }));
  return Buffer.from(compiledScrypt(bytes(password), bytes(salt), Math.log2(N), r, p, keylen));
}

export function scrypt(password, salt, keylen, options, callback) {
  if (typeof options === 'function') [options, callback] = [{}, options];
  later(callback, () => scryptSync(password, salt, keylen, options));
}
export const pseudoRandomBytes = randomBytes;

export function randomUUID() {
  snapshotRandomness('crypto.randomUUID');
  return globalThis.crypto.randomUUID();
}

export function randomInt(min, max) {
  if (max === undefined) [min, max] = [0, min];
  const range = max - min;
  snapshotRandomness('crypto.randomInt');
  const [value] = globalThis.crypto.getRandomValues(new Uint32Array(1));
  return min + (value % range);
}

export function timingSafeEqual(a, b) {
  if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

export function getHashes() {
  return Object.keys(ALGORITHMS);
}

export const getRandomValues = (array) => globalThis.crypto.getRandomValues(array);
export const webcrypto = globalThis.crypto;

export default {
  createHash, createHmac, randomBytes, pseudoRandomBytes, randomUUID, randomInt, timingSafeEqual, getHashes,
  getRandomValues, webcrypto, pbkdf2, pbkdf2Sync, scrypt, scryptSync,
};
