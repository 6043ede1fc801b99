// The guest's files, for the `fs` shim: paths as node sees them (absolute,
// against the working directory), looked up in the folders the component is
// granted (`wasi:filesystem` preopens: the app at /app, its packages at
// /app/node_modules, writable folders), with errors shaped like node's.
//
// While the build snapshots the engine (the app's top level: `fs.readdirSync`
// of a controllers folder, `dotenv` reading `.env`), WASI cannot be called.
// Then the answers come from the snapshot view: the app folder as the build
// staged it (names, sizes, times, and the contents of its small files), which
// the generated boot module hands over (`useSnapshotView`). The first request
// switches to the real files (`serveFromWasi`), and the view is dropped.

import { getDirectories } from 'wasi:filesystem/preopens@0.2.10';

export const CWD = '/app';

let snapshotView = null;
let snapshotLimit = 0;
let preopens = null;

/** `view`: guest path → { type, size, mtimeMs, entries (of a folder),
 * data (base64, of a file no larger than `limit` bytes) }. */
export function useSnapshotView(view, limit) {
  snapshotView = view;
  snapshotLimit = limit;
}

export function serveFromWasi() {
  snapshotView = null;
}

const ERRNO = { ENOENT: -2, EACCES: -13, EEXIST: -17, ENOTDIR: -20, EISDIR: -21, EINVAL: -22, EROFS: -30, ENOTEMPTY: -39, EIO: -5, EBADF: -9 };
const MESSAGES = {
  ENOENT: 'no such file or directory', EACCES: 'permission denied', EEXIST: 'file already exists',
  ENOTDIR: 'not a directory', EISDIR: 'illegal operation on a directory', EINVAL: 'invalid argument',
  EROFS: 'read-only file system', ENOTEMPTY: 'directory not empty', EIO: 'i/o error', EBADF: 'bad file descriptor',
};

/** An Error as node's fs throws it (`code`, `errno`, `syscall`, `path`). */
export function fsError(code, syscall, path, detail) {
  const error = new Error(`${code}: ${MESSAGES[code] ?? code}, ${syscall} '${path}'${detail ? ` (${detail})` : ''}`);
  Object.assign(error, { code, errno: ERRNO[code] ?? -1, syscall, path });
  return error;
}

// wasi:filesystem error codes as node's.
const WASI_CODES = {
  'no-entry': 'ENOENT', access: 'EACCES', 'not-permitted': 'EACCES', exist: 'EEXIST', 'not-directory': 'ENOTDIR',
  'is-directory': 'EISDIR', invalid: 'EINVAL', 'read-only': 'EROFS', 'not-empty': 'ENOTEMPTY', 'bad-descriptor': 'EBADF',
};

function fromWasi(error, syscall, path) {
  const payload = error?.payload ?? error;
  const code = WASI_CODES[payload];
  if (code === 'EROFS' || code === 'EACCES' || (code === 'EBADF' && syscall !== 'read')) {
    return fsError('EROFS', syscall, path, 'the app\'s files are read-only; grant a writable folder with [capabilities.filesystem] write in the Fabrickfile');
  }
  return fsError(code ?? 'EIO', syscall, path, code ? undefined : String(payload));
}

/** `path` as an absolute, normalised guest path. */
export function resolvePath(path) {
  if (path instanceof URL) path = decodeURIComponent(path.pathname);
  if (typeof path !== 'string') path = String(path);
  const parts = [];
  for (const part of (path.startsWith('/') ? path : `${CWD}/${path}`).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** The granted folder holding `path` (the longest matching mount) and the
 * path inside it, or null. */
function mountFor(path) {
  preopens ??= getDirectories().map(([descriptor, guest]) => ({ descriptor, guest: resolvePath(guest) }));
  let best = null;
  for (const mount of preopens) {
    const inside = mount.guest === '/' || path === mount.guest || path.startsWith(`${mount.guest}/`);
    if (inside && (!best || mount.guest.length > best.guest.length)) best = mount;
  }
  if (!best) return null;
  const relative = path.slice(best.guest === '/' ? 1 : best.guest.length + 1);
  return { descriptor: best.descriptor, relative: relative === '' ? '.' : relative };
}

const FOLLOW = { symlinkFollow: true };

function close(resource) {
  resource?.[Symbol.dispose]?.();
}

/** What node's Stats are made of: `type` ('file', 'directory', 'symlink',
 * 'other'), `size`, and times in milliseconds. */
function statFromWasi(stat) {
  const ms = (time) => (time ? Number(time.seconds) * 1000 + Math.floor(time.nanoseconds / 1e6) : 0);
  const type = { 'regular-file': 'file', directory: 'directory', 'symbolic-link': 'symlink' }[stat.type] ?? 'other';
  return { type, size: Number(stat.size), mtimeMs: ms(stat.dataModificationTimestamp), atimeMs: ms(stat.dataAccessTimestamp), ctimeMs: ms(stat.statusChangeTimestamp) };
}

function viewEntry(path, syscall) {
  const entry = snapshotView[path];
  if (!entry) throw fsError('ENOENT', syscall, path);
  return entry;
}

/** The stat of `path` (resolved), as `statFromWasi` shapes it. */
export function stat(path, syscall = 'stat') {
  if (snapshotView) {
    const { type, size, mtimeMs } = viewEntry(path, syscall);
    return { type, size, mtimeMs, atimeMs: mtimeMs, ctimeMs: mtimeMs };
  }
  const mount = mountFor(path);
  if (!mount) throw fsError('ENOENT', syscall, path);
  try {
    return statFromWasi(mount.descriptor.statAt(FOLLOW, mount.relative));
  } catch (error) {
    throw fromWasi(error, syscall, path);
  }
}

/** The names and types of a folder's entries, in name order. */
export function readdir(path) {
  if (snapshotView) {
    const entry = viewEntry(path, 'scandir');
    if (entry.type !== 'directory') throw fsError('ENOTDIR', 'scandir', path);
    return entry.entries.map((name) => ({ name, type: snapshotView[`${path === '/' ? '' : path}/${name}`]?.type ?? 'file' }));
  }
  const mount = mountFor(path);
  if (!mount) throw fsError('ENOENT', 'scandir', path);
  let dir = null;
  let stream = null;
  try {
    dir = mount.relative === '.' ? mount.descriptor : mount.descriptor.openAt(FOLLOW, mount.relative, { directory: true }, { read: true });
    stream = dir.readDirectory();
    const entries = [];
    for (let entry = stream.readDirectoryEntry(); entry; entry = stream.readDirectoryEntry()) {
      const type = { 'regular-file': 'file', directory: 'directory', 'symbolic-link': 'symlink' }[entry.type] ?? 'other';
      entries.push({ name: entry.name, type });
    }
    // Mounts inside this folder (node_modules in /app) are entries too.
    for (const other of preopens) {
      const parent = other.guest.slice(0, other.guest.lastIndexOf('/')) || '/';
      const name = other.guest.slice(other.guest.lastIndexOf('/') + 1);
      if (parent === path && name && !entries.some((e) => e.name === name)) entries.push({ name, type: 'directory' });
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    throw fromWasi(error, 'scandir', path);
  } finally {
    close(stream);
    if (dir !== mount.descriptor) close(dir);
  }
}

/** What a response that can send a file's bytes itself answers to:
 * `response[SEND_FILE](file, start, count)` sends `count` bytes of an open
 * file from `start` as the whole body (copied by the host, never through
 * the guest's memory), and returns how many it sent, or `false` if it
 * cannot (its head went out already, or it has no body). */
export const SEND_FILE = Symbol('fabricks.sendFile');

/** An open file: `read(length, position)` returns bytes (empty at the end);
 * a file on the host also has `inputStream(position)`, its bytes from
 * `position` on as a WASI input stream. */
export function openForReading(path) {
  if (snapshotView) {
    const entry = viewEntry(path, 'open');
    if (entry.type === 'directory') throw fsError('EISDIR', 'read', path);
    if (entry.data === undefined) {
      throw fsError('EIO', 'open', path, `fabricks: the app read this file while the build loaded it, and the build keeps only files up to ${snapshotLimit} bytes (and no media) for that: read it in a request handler, or at the first request`);
    }
    const bytes = Uint8Array.from(atob(entry.data), (c) => c.charCodeAt(0));
    return { size: bytes.length, read: (length, position) => bytes.subarray(position, position + length), close() {} };
  }
  const mount = mountFor(path);
  if (!mount) throw fsError('ENOENT', 'open', path);
  let file;
  try {
    file = mount.descriptor.openAt(FOLLOW, mount.relative, {}, { read: true });
  } catch (error) {
    throw fromWasi(error, 'open', path);
  }
  try {
    const info = statFromWasi(file.stat());
    if (info.type === 'directory') throw fsError('EISDIR', 'read', path);
    return {
      size: info.size,
      read(length, position) {
        try {
          return file.read(BigInt(length), BigInt(position))[0];
        } catch (error) {
          throw fromWasi(error, 'read', path);
        }
      },
      inputStream(position) {
        try {
          return file.readViaStream(BigInt(position));
        } catch (error) {
          throw fromWasi(error, 'read', path);
        }
      },
      close: () => close(file),
    };
  } catch (error) {
    close(file);
    throw error;
  }
}

/** The whole file's bytes. */
export function readFile(path) {
  const file = openForReading(path);
  try {
    const chunks = [];
    let total = 0;
    for (;;) {
      const chunk = file.read(1 << 20, total);
      if (chunk.length === 0) break;
      chunks.push(chunk);
      total += chunk.length;
    }
    if (chunks.length === 1) return chunks[0];
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  } finally {
    file.close();
  }
}

function writableMount(path, syscall) {
  if (snapshotView) throw fsError('EROFS', syscall, path, 'fabricks: the app cannot write while the build loads it');
  const mount = mountFor(path);
  if (!mount) throw fsError('ENOENT', syscall, path);
  return mount;
}

/** Write `bytes` to `path`, replacing it (or appending, with `append`). */
export function writeFile(path, bytes, { append = false, exclusive = false } = {}) {
  const mount = writableMount(path, 'open');
  let file;
  try {
    file = mount.descriptor.openAt(FOLLOW, mount.relative, { create: true, truncate: !append, exclusive }, { write: true });
    let at = append ? Number(file.stat().size) : 0;
    let written = 0;
    while (written < bytes.length) {
      const n = Number(file.write(bytes.subarray(written, written + (1 << 20)), BigInt(at)));
      written += n;
      at += n;
    }
  } catch (error) {
    throw error?.code ? error : fromWasi(error, 'open', path);
  } finally {
    close(file);
  }
}

/** `change(descriptor, relative)` on the writable folder holding `path`. */
function change(path, syscall, fn) {
  const mount = writableMount(path, syscall);
  try {
    fn(mount.descriptor, mount.relative);
  } catch (error) {
    throw fromWasi(error, syscall, path);
  }
}

export const mkdir = (path) => change(path, 'mkdir', (dir, relative) => dir.createDirectoryAt(relative));
export const unlink = (path) => change(path, 'unlink', (dir, relative) => dir.unlinkFileAt(relative));
export const rmdir = (path) => change(path, 'rmdir', (dir, relative) => dir.removeDirectoryAt(relative));

export function rename(from, to) {
  const source = writableMount(from, 'rename');
  const target = writableMount(to, 'rename');
  try {
    source.descriptor.renameAt(source.relative, target.descriptor, target.relative);
  } catch (error) {
    throw fromWasi(error, 'rename', from);
  }
}
