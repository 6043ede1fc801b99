// `fs` and `fs/promises` for the guest: node's API over the component's
// files (../files.js): the app and its packages, read-only, and the writable
// folders it was granted. Callbacks run on a later turn, as node's do;
// file streams read in chunks.

import { Buffer } from 'buffer';
import { Readable, Writable } from 'stream';
import * as files from '../files.js';

export const constants = {
  F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024,
  S_IFMT: 61440, S_IFREG: 32768, S_IFDIR: 16384, S_IFLNK: 40960, COPYFILE_EXCL: 1,
};

/** What a Stats and a Dirent answer about the kind of entry. */
class EntryKind {
  isFile() { return this.kind === 'file'; }
  isDirectory() { return this.kind === 'directory'; }
  isSymbolicLink() { return this.kind === 'symlink'; }
  isBlockDevice() { return false; }
  isCharacterDevice() { return false; }
  isFIFO() { return false; }
  isSocket() { return false; }
}

export class Stats extends EntryKind {
  constructor(info) {
    super();
    const mode = { file: constants.S_IFREG | 0o444, directory: constants.S_IFDIR | 0o555, symlink: constants.S_IFLNK | 0o777 }[info.type] ?? 0;
    Object.assign(this, {
      dev: 0, ino: 0, mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size: info.size, blksize: 4096, blocks: Math.ceil(info.size / 512),
      atimeMs: info.atimeMs, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, birthtimeMs: info.ctimeMs,
      atime: new Date(info.atimeMs), mtime: new Date(info.mtimeMs), ctime: new Date(info.ctimeMs), birthtime: new Date(info.ctimeMs),
    });
    Object.defineProperty(this, 'kind', { value: info.type });
  }
}

export class Dirent extends EntryKind {
  constructor(name, type, parentPath) {
    super();
    Object.assign(this, { name, parentPath, path: parentPath });
    Object.defineProperty(this, 'kind', { value: type });
  }
}

const optionsOf = (options) => (typeof options === 'string' ? { encoding: options } : options ?? {});
const decode = (bytes, encoding) => {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding && encoding !== 'buffer' ? buffer.toString(encoding) : buffer;
};
const toBytes = (data, encoding) => (typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : data instanceof Uint8Array ? data : Buffer.from(data));

// --- synchronous API -------------------------------------------------------

export function statSync(path, options) {
  try {
    return new Stats(files.stat(files.resolvePath(path)));
  } catch (error) {
    if (options?.throwIfNoEntry === false && error.code === 'ENOENT') return undefined;
    throw error;
  }
}
export const lstatSync = statSync;

export function existsSync(path) {
  try {
    files.stat(files.resolvePath(path));
    return true;
  } catch {
    return false;
  }
}

export function accessSync(path, mode = constants.F_OK) {
  const resolved = files.resolvePath(path);
  files.stat(resolved, 'access');
  if (mode & constants.W_OK && !resolved.startsWith(files.CWD)) throw files.fsError('EACCES', 'access', resolved);
}

export function readFileSync(path, options) {
  const { encoding } = optionsOf(options);
  return decode(files.readFile(files.resolvePath(path)), encoding);
}

export function readdirSync(path, options) {
  const { withFileTypes, encoding } = optionsOf(options);
  const resolved = files.resolvePath(path);
  const entries = files.readdir(resolved);
  if (withFileTypes) return entries.map(({ name, type }) => new Dirent(name, type, resolved));
  return entries.map(({ name }) => (encoding === 'buffer' ? Buffer.from(name) : name));
}

export function realpathSync(path) {
  const resolved = files.resolvePath(path);
  files.stat(resolved, 'realpath');
  return resolved;
}
realpathSync.native = realpathSync;

export function writeFileSync(path, data, options) {
  const { encoding, flag = 'w' } = optionsOf(options);
  files.writeFile(files.resolvePath(path), toBytes(data, encoding), { append: flag.startsWith('a'), exclusive: flag.includes('x') });
}

export function appendFileSync(path, data, options) {
  writeFileSync(path, data, { ...optionsOf(options), flag: 'a' });
}

export function mkdirSync(path, options) {
  const resolved = files.resolvePath(path);
  if (!optionsOf(options).recursive) return files.mkdir(resolved);
  const parts = resolved.split('/').filter(Boolean);
  let first;
  for (let i = 1; i <= parts.length; i++) {
    const prefix = `/${parts.slice(0, i).join('/')}`;
    if (existsSync(prefix)) continue;
    files.mkdir(prefix);
    first ??= prefix;
  }
  return first;
}

export function unlinkSync(path) {
  files.unlink(files.resolvePath(path));
}

export function rmdirSync(path) {
  files.rmdir(files.resolvePath(path));
}

export function rmSync(path, options) {
  const resolved = files.resolvePath(path);
  let info;
  try {
    info = files.stat(resolved, 'rm');
  } catch (error) {
    if (options?.force && error.code === 'ENOENT') return;
    throw error;
  }
  if (info.type !== 'directory') return files.unlink(resolved);
  if (!options?.recursive) throw files.fsError('EISDIR', 'rm', resolved);
  for (const { name } of files.readdir(resolved)) rmSync(`${resolved}/${name}`, options);
  files.rmdir(resolved);
}

export function renameSync(from, to) {
  files.rename(files.resolvePath(from), files.resolvePath(to));
}

export function copyFileSync(from, to) {
  writeFileSync(to, readFileSync(from));
}

// File descriptors: what `send`-style code and `fs.read` users need.
const open = new Map();
let nextFd = 100;

export function openSync(path, flags = 'r') {
  const resolved = files.resolvePath(path);
  if (typeof flags === 'string' && flags !== 'r' && flags !== 'rs') {
    const fd = nextFd++;
    open.set(fd, { path: resolved, writer: { flags, at: 0 } });
    if (!flags.startsWith('a')) files.writeFile(resolved, new Uint8Array(0), { exclusive: flags.includes('x') });
    return fd;
  }
  const fd = nextFd++;
  open.set(fd, { path: resolved, file: files.openForReading(resolved), position: 0 });
  return fd;
}

function descriptor(fd, syscall) {
  const entry = open.get(fd);
  if (!entry) throw files.fsError('EBADF', syscall, String(fd));
  return entry;
}

export function readSync(fd, buffer, offset = 0, length = buffer.byteLength - offset, position = null) {
  if (typeof offset === 'object' && offset !== null) ({ offset = 0, length = buffer.byteLength - offset, position = null } = offset);
  const entry = descriptor(fd, 'read');
  const at = position === null || position === undefined || position < 0 ? entry.position : Number(position);
  const chunk = entry.file.read(length, at);
  buffer.set(chunk, offset);
  if (position === null || position === undefined || position < 0) entry.position += chunk.length;
  return chunk.length;
}

export function writeSync(fd, data, ...rest) {
  const entry = descriptor(fd, 'write');
  if (!entry.writer) throw files.fsError('EBADF', 'write', entry.path);
  const bytes = typeof data === 'string' ? Buffer.from(data, typeof rest[1] === 'string' ? rest[1] : 'utf8') : data;
  files.writeFile(entry.path, bytes, { append: true });
  return bytes.length;
}

export function fstatSync(fd) {
  return new Stats(files.stat(descriptor(fd, 'fstat').path, 'fstat'));
}

export function closeSync(fd) {
  descriptor(fd, 'close').file?.close();
  open.delete(fd);
}

// --- callbacks -------------------------------------------------------------

/** node's callback form of a synchronous function: the result (or error)
 * arrives on a later turn. */
function callbackForm(sync) {
  return function (...args) {
    const callback = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    let result;
    let failure = null;
    try {
      result = sync(...args);
    } catch (error) {
      failure = error;
    }
    if (callback) setTimeout(() => (failure ? callback(failure) : callback(null, result)), 0);
  };
}

export const stat = callbackForm(statSync);
export const lstat = callbackForm(lstatSync);
export const fstat = callbackForm(fstatSync);
export const access = callbackForm(accessSync);
export const readFile = callbackForm(readFileSync);
export const readdir = callbackForm(readdirSync);
export const realpath = callbackForm(realpathSync);
realpath.native = realpath;
export const writeFile = callbackForm(writeFileSync);
export const appendFile = callbackForm(appendFileSync);
export const mkdir = callbackForm(mkdirSync);
export const unlink = callbackForm(unlinkSync);
export const rmdir = callbackForm(rmdirSync);
export const rm = callbackForm(rmSync);
export const rename = callbackForm(renameSync);
export const copyFile = callbackForm(copyFileSync);
const openCallback = callbackForm(openSync);
export { openCallback as open };
export const close = callbackForm(closeSync);
export function read(fd, buffer, offset, length, position, callback) {
  callbackForm((...args) => readSync(...args))(fd, buffer, offset, length, position, (error, bytesRead) => callback(error, bytesRead, buffer));
}
export function exists(path, callback) {
  const found = existsSync(path);
  setTimeout(() => callback(found), 0);
}

// --- streams ---------------------------------------------------------------

const CHUNK = 64 * 1024;

export class ReadStream extends Readable {
  constructor(path, options = {}) {
    options = optionsOf(options);
    super({ highWaterMark: options.highWaterMark ?? CHUNK, encoding: options.encoding });
    this.path = files.resolvePath(path);
    this.start = options.start ?? 0;
    this.end = options.end ?? Infinity;
    this.position = this.start;
    this.bytesRead = 0;
    this.pending = true;
    try {
      this.file = files.openForReading(this.path);
      this.pending = false;
      setTimeout(() => {
        this.emit('open', 0);
        this.emit('ready');
      }, 0);
    } catch (error) {
      this.file = null;
      setTimeout(() => this.destroy(error), 0);
    }
  }
  _read(size) {
    if (!this.file) return;
    try {
      const length = Math.min(size || CHUNK, this.end - this.position + 1);
      const chunk = length > 0 ? this.file.read(length, this.position) : new Uint8Array(0);
      if (chunk.length === 0) {
        this.push(null);
        return;
      }
      this.position += chunk.length;
      this.bytesRead += chunk.length;
      this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (error) {
      this.destroy(error);
    }
  }
  // Piped into a response that can send a file itself (the Node bridge's),
  // the file goes out host to host: its bytes never pass through the guest
  // (where each chunk written would stay allocated until the request ends).
  // `send` (express.static, res.sendFile, res.download) pipes files so.
  pipe(destination, options) {
    const eligible = typeof destination?.[files.SEND_FILE] === 'function' && this.file?.inputStream;
    if (!eligible || this.readableFlowing !== null || this.bytesRead > 0 || this.readableEncoding) {
      return super.pipe(destination, options);
    }
    // On a later turn, as node's pipe starts to flow: after the 'open' this
    // stream announces, and after the caller has added its listeners. If
    // something else starts reading first (a 'data' listener), the file is
    // piped as node pipes it, so that both see every chunk.
    const send = setTimeout(() => {
      this.off('resume', pipeAsNode);
      this.#sendTo(destination, options);
    }, 0);
    const pipeAsNode = () => {
      clearTimeout(send);
      super.pipe(destination, options);
    };
    this.once('resume', pipeAsNode);
    return destination;
  }
  #sendTo(destination, options) {
    if (this.destroyed || !this.file) return;
    const endDestination = options?.end !== false;
    const last = Math.min(this.end, this.file.size - 1);
    const count = Math.max(0, last - this.position + 1);
    let sent;
    try {
      sent = destination[files.SEND_FILE](this.file, this.position, count);
    } catch (error) {
      this.destroy(error);
      return;
    }
    if (sent === false) {
      super.pipe(destination, options);
      return;
    }
    destination.emit('pipe', this);
    this.position += sent;
    this.bytesRead += sent;
    // The stream has nothing more to give: it ends (and, by default, closes).
    this.push(null);
    this.resume();
    if (endDestination) destination.end();
  }
  _destroy(error, callback) {
    this.file?.close();
    this.file = null;
    callback(error);
    if (!error) this.emit('close');
  }
  close(callback) {
    this.destroy();
    if (callback) this.once('close', callback);
  }
}

export function createReadStream(path, options) {
  return new ReadStream(path, options);
}

export class WriteStream extends Writable {
  constructor(path, options = {}) {
    super();
    options = optionsOf(options);
    this.path = files.resolvePath(path);
    this.bytesWritten = 0;
    files.writeFile(this.path, new Uint8Array(0), { append: (options.flags ?? 'w').startsWith('a') });
  }
  _write(chunk, encoding, callback) {
    try {
      files.writeFile(this.path, toBytes(chunk, encoding), { append: true });
      this.bytesWritten += chunk.length;
      callback();
    } catch (error) {
      callback(error);
    }
  }
}

export function createWriteStream(path, options) {
  return new WriteStream(path, options);
}

export function watch() {
  throw new Error('fs.watch: the guest cannot watch files (the app is rebuilt when they change)');
}
export function watchFile() {}
export function unwatchFile() {}

// --- promises --------------------------------------------------------------

const promise = (sync) => async (...args) => sync(...args);

export const promises = {
  stat: promise(statSync), lstat: promise(lstatSync), access: promise(accessSync), readFile: promise(readFileSync),
  readdir: promise(readdirSync), realpath: promise(realpathSync), writeFile: promise(writeFileSync),
  appendFile: promise(appendFileSync), mkdir: promise(mkdirSync), unlink: promise(unlinkSync), rmdir: promise(rmdirSync),
  rm: promise(rmSync), rename: promise(renameSync), copyFile: promise(copyFileSync), constants,
  async open(path, flags) {
    const fd = openSync(path, flags);
    return {
      fd,
      stat: async () => fstatSync(fd),
      read: async (buffer, offset, length, position) => ({ bytesRead: readSync(fd, buffer, offset, length, position), buffer }),
      readFile: async (options) => readFileSync(open.get(fd).path, options),
      writeFile: async (data, options) => writeFileSync(open.get(fd).path, data, options),
      close: async () => closeSync(fd),
    };
  },
};

export default {
  constants, Stats, Dirent, ReadStream, WriteStream,
  statSync, lstatSync, fstatSync, existsSync, accessSync, readFileSync, readdirSync, realpathSync, writeFileSync, appendFileSync,
  mkdirSync, unlinkSync, rmdirSync, rmSync, renameSync, copyFileSync, openSync, readSync, writeSync, closeSync,
  stat, lstat, fstat, access, readFile, readdir, realpath, writeFile, appendFile, mkdir, unlink, rmdir, rm, rename, copyFile,
  open: openCallback, close, read, exists, createReadStream, createWriteStream, watch, watchFile, unwatchFile, promises,
};
