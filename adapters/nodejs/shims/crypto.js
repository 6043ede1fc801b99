// `crypto` for the guest: hashes and HMACs from @noble/hashes, random bytes
// from the web crypto the engine provides.
import { Buffer } from 'buffer';
import { sha1, md5 } from '@noble/hashes/legacy.js';
import { sha256, sha224 } from '@noble/hashes/sha2.js';
import { sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';

const ALGORITHMS = { sha1, md5, sha256, sha224, sha384, sha512 };

function algorithm(name) {
  const hash = ALGORITHMS[String(name).toLowerCase().replace('-', '')];
  if (!hash) throw new Error(`fabricks: the hash ${name} is not available in a guest`);
  return hash;
}

function bytes(data, encoding) {
  if (typeof data === 'string') return Buffer.from(data, encoding || 'utf8');
  return data instanceof Uint8Array ? data : Buffer.from(data);
}

function output(digest, encoding) {
  const buffer = Buffer.from(digest);
  return encoding ? buffer.toString(encoding) : buffer;
}

class Hash {
  constructor(state) {
    this.state = state;
  }
  update(data, encoding) {
    this.state.update(bytes(data, encoding));
    return this;
  }
  digest(encoding) {
    return output(this.state.digest(), encoding);
  }
  copy() {
    return new Hash(this.state.clone());
  }
}

export function createHash(name) {
  return new Hash(algorithm(name).create());
}

export function createHmac(name, key) {
  return new Hash(hmac.create(algorithm(name), bytes(key)));
}

export function randomBytes(size, callback) {
  const buffer = Buffer.alloc(size);
  for (let at = 0; at < size; at += 65536) {
    globalThis.crypto.getRandomValues(buffer.subarray(at, Math.min(size, at + 65536)));
  }
  if (callback) {
    queueMicrotask(() => callback(null, buffer));
    return undefined;
  }
  return buffer;
}
export const pseudoRandomBytes = randomBytes;

export function randomUUID() {
  return globalThis.crypto.randomUUID();
}

export function randomInt(min, max) {
  if (max === undefined) [min, max] = [0, min];
  const range = max - min;
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
  getRandomValues, webcrypto,
};
