// `fs/promises` for the guest: the promise API of the `fs` shim.
import { promises } from './fs.js';

export const {
  stat, lstat, access, readFile, readdir, realpath, writeFile, appendFile, mkdir, unlink, rmdir, rm, rename, copyFile, open, constants,
} = promises;
export default promises;
