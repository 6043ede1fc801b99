// `fs` for the guest: there is no app filesystem; every lookup says ENOENT.
function enoent(path) {
  const error = new Error(`ENOENT: no such file or directory (fabricks guest), '${path}'`);
  error.code = 'ENOENT';
  error.errno = -2;
  error.path = path;
  return error;
}
function callbackError(path, ...args) {
  const callback = args.findLast?.((a) => typeof a === 'function') ?? args.reverse().find((a) => typeof a === 'function');
  if (callback) queueMicrotask(() => callback(enoent(path)));
}
export const stat = callbackError;
export const lstat = callbackError;
export const readFile = callbackError;
export const readdir = callbackError;
export const access = callbackError;
export const open = callbackError;
export function statSync(path) {
  throw enoent(path);
}
export const lstatSync = statSync;
export const readFileSync = statSync;
export const readdirSync = statSync;
export const accessSync = statSync;
export function existsSync() {
  return false;
}
export function createReadStream(path) {
  throw enoent(path);
}
export function createWriteStream(path) {
  throw enoent(path);
}
export const promises = {
  stat: async (path) => { throw enoent(path); },
  readFile: async (path) => { throw enoent(path); },
  readdir: async (path) => { throw enoent(path); },
  access: async (path) => { throw enoent(path); },
};
export const constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 };
export default {
  stat, lstat, readFile, readdir, access, open, statSync, lstatSync, readFileSync, readdirSync, accessSync,
  existsSync, createReadStream, createWriteStream, promises, constants,
};
