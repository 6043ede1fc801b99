// `require` for what the bundle could not see: a path computed at run time
// (`require(path.join(dir, name))`, Express's `require(engine)` for a view
// engine named in `app.set('view engine', ...)`). esbuild bundles every
// `require` of a literal; for the rest, its `__require` calls the global
// `require` installed here, which looks the module up in the registry the
// build generated: each JS or JSON file of the app by its guest path, each
// declared dependency by name, and the node built-ins fabricks provides,
// evaluated on first use, as node's loader would.

import * as fs from 'fs';
import * as path from 'path';
import * as events from 'events';
import * as util from 'util';
import * as stream from 'stream';
import * as url from 'url';
import * as http from 'http';
import * as https from 'https';
import * as crypto from 'crypto';
import * as querystring from 'querystring';
import * as os from 'os';
import * as buffer from 'buffer';
import * as fsPromises from 'fs/promises';
import { CWD, readFile, resolvePath, stat } from './files.js';

// Also what an app reloaded under `up --watch` may require by name (build.mjs reads this line).
const BUILTINS = { fs, path, events, util, stream, url, http, https, crypto, querystring, os, buffer, 'fs/promises': fsPromises };
const EXTENSIONS = ['', '.js', '.json', '.cjs', '.mjs', '/index.js', '/index.json', '/index.cjs'];

function notFound(id) {
  const where = /^[./]/.test(id)
    ? 'the build found no such JS or JSON file in the app'
    : "a package required by a name computed while serving must be in package.json's dependencies";
  const error = new Error(`Cannot find module '${id}' (fabricks: ${where})`);
  error.code = 'MODULE_NOT_FOUND';
  return error;
}

let replaceFiles = null;

/** `up --watch`: the app's modules of an edited copy of the app (see
 * handler.js) take the place of the ones the build registered. */
export function replaceAppModules(files) {
  replaceFiles(files);
}

export function installRequire(files, packages) {
  const loaded = new Map();
  replaceFiles = (newer) => {
    files = newer;
    for (const key of loaded.keys()) if (key.startsWith('/')) loaded.delete(key);
  };

  /** A file on disk (while serving: the app's files and its packages'),
   * for what the registry does not hold: `require.resolve('pkg/package.json')`,
   * a JSON file the build did not bundle. */
  function onDisk(absolute) {
    for (const extension of EXTENSIONS) {
      try {
        if (stat(absolute + extension).type === 'file') return absolute + extension;
      } catch {
        // not this one
      }
    }
    return null;
  }

  function resolve(id) {
    const bare = id.replace(/^node:/, '');
    if (BUILTINS[bare]) return `node:${bare}`;
    const relative = id.startsWith('/') || id.startsWith('./') || id.startsWith('../') || id === '.' || id === '..';
    if (!relative && packages[id]) return id;
    const absolute = resolvePath(relative ? (id.startsWith('/') ? id : `${CWD}/${id}`) : `${CWD}/node_modules/${id}`);
    for (const extension of EXTENSIONS) {
      if (files[absolute + extension]) return absolute + extension;
    }
    const found = onDisk(absolute);
    if (found) return found;
    throw notFound(id);
  }

  function load(key) {
    if (key.startsWith('node:')) {
      const builtin = BUILTINS[key.slice(5)];
      return builtin.default ?? builtin;
    }
    const registered = files[key] ?? packages[key];
    if (registered) return registered();
    if (key.endsWith('.json')) return JSON.parse(new TextDecoder().decode(readFile(key)));
    const error = notFound(key);
    error.message = `Cannot find module '${key}' (fabricks: the file is there, but only JS the build bundled can run: require it by a literal path, or from the app's own files)`;
    throw error;
  }

  function require(id) {
    const key = resolve(String(id));
    if (!loaded.has(key)) loaded.set(key, load(key));
    return loaded.get(key);
  }
  require.resolve = (id) => {
    const key = resolve(String(id));
    return key.startsWith('/') ? key : key.startsWith('node:') ? key.slice(5) : path.join(CWD, 'node_modules', key);
  };
  require.cache = {};
  require.main = undefined;
  globalThis.require = require;
}
