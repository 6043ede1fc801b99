'use strict'

// Digests and HMACs the ways apps compute them (ETags, signed cookies,
// checksums), for a test to compare with what node computes.
const crypto = require('crypto')

const atLoad = crypto.createHash('sha256').update('computed while the app loads').digest('hex')

module.exports = function digests() {
  const text = 'The quick brown fox jumps over the lazy dog'
  const out = { atLoad }
  for (const name of ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']) {
    out[name] = crypto.createHash(name).update(text).digest('hex')
    out['hmac-' + name] = crypto.createHmac(name, 'key').update(text).digest('base64')
  }
  // Pieces written into one reused buffer: each counts as it was when given.
  const buffer = Buffer.alloc(1000)
  const pieces = crypto.createHash('sha256')
  for (let i = 0; i < 5; i++) pieces.update(buffer.fill(65 + i))
  out.reusedBuffer = pieces.digest('hex')
  const first = crypto.createHash('SHA-512').update('a')
  const copy = first.copy()
  copy.update('b')
  out.copied = [first.digest('hex'), copy.digest('hex')]
  out.binaryKey = crypto.createHmac('sha256', Buffer.from([0, 1, 2, 255])).update(Buffer.from('data')).digest('hex')
  out.latin1 = crypto.createHash('md5').update('caf\u00e9', 'latin1').digest('hex')
  out.empty = crypto.createHash('sha1').digest('base64')
  try {
    first.digest('hex')
  } catch (err) {
    out.twice = 'refused'
  }
  return out
}
