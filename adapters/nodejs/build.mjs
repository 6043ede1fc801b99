// Bundles a Node app with the fabricks adapter (esbuild) and turns the bundle
// into a wasi:http/proxy component (componentize-js). Run by the fabricks
// Node builder as `node build.mjs <settings.json>`; the pinned tools are
// loaded from the toolchain directory the settings name.

import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { changeGeneratedBindings } from './bindings.mjs';

const settings = JSON.parse(await readFile(process.argv[2], 'utf8'));
// `--reload APP_COPY OUT` (up --watch): bundle an edited copy of the app
// alone, for instances of the built component to load (see `reloadBundle`).
const reloading = process.argv[3] === '--reload' ? { appDir: process.argv[4], output: process.argv[5] } : null;
if (reloading) {
  settings.appDir = reloading.appDir;
  settings.appPath = join(reloading.appDir, settings.app);
}

async function load(packageName) {
  const dir = join(settings.toolchainDir, 'node_modules', packageName);
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  const exported = manifest.exports?.['.'] ?? manifest.exports;
  const entry = (typeof exported === 'string' ? exported : exported?.import ?? exported?.default) ?? manifest.main;
  return import(pathToFileURL(join(dir, entry)).href);
}

const step = (text) => console.error(`fabricks-step: ${text}`);

const esbuild = await load('esbuild');
const bundle = join(settings.buildDir, 'bundle.js');
const toolchainModules = join(settings.toolchainDir, 'node_modules');
const shims = join(settings.adapterDir, 'shims');

// Node built-ins: fabricks' own shims where the guest needs behaviour of its
// own, node-stdlib-browser's polyfills for the rest.
const require = createRequire(join(settings.toolchainDir, 'package.json'));
const stdlib = require('node-stdlib-browser');
const OWN = {
  http: 'http.js', https: 'https.js', net: 'net.js', fs: 'fs.js', 'fs/promises': 'fs-promises.js', async_hooks: 'async_hooks.js',
  diagnostics_channel: 'diagnostics_channel.js', crypto: 'crypto.js', perf_hooks: 'perf_hooks.js',
  worker_threads: 'unavailable.js', process: 'process.cjs', os: 'os.js', dns: 'dns.js', 'dns/promises': 'dns.js',
};
const builtins = {
  name: 'fabricks-node-builtins',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (OWN[name]) return { path: join(shims, OWN[name]) };
      const polyfill = stdlib[name];
      // Some entries name a package folder: resolve it to its entry file.
      if (polyfill) return { path: require.resolve(polyfill) };
      if (args.path.startsWith('node:')) return { path: join(shims, 'unavailable.js') };
      return undefined;
    });
  },
};

// CommonJS as node runs it: a module that names `__dirname` or `__filename`
// (or, as ES module, `import.meta.url`, `.dirname`, `.filename`) gets its
// own, as the guest sees it while serving: the app at `guestAppDir`, its
// packages at node_modules inside it.
const modulesDir = join(settings.depsDir, 'node_modules');
function guestPath(file) {
  for (const [host, guest] of [[modulesDir, `${settings.guestAppDir}/node_modules`], [settings.appDir, settings.guestAppDir]]) {
    const inside = relative(host, file);
    if (!inside.startsWith('..') && !inside.startsWith(sep)) return inside ? `${guest}/${inside.split(sep).join('/')}` : guest;
  }
  return null;
}
const declares = (source, name) => new RegExp(`(?:\\b(?:var|let|const|function|class)\\s+|[{,]\\s*)${name}\\b`).test(source);
/** Where declarations can go without ending a directive prologue ('use strict'). */
function afterPrologue(source) {
  const skip = /^(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|#![^\n]*)*/;
  let at = source.match(skip)[0].length;
  for (;;) {
    const directive = source.slice(at).match(/^(['"])use strict\1\s*;?/);
    if (!directive) return at;
    at += directive[0].length;
    at += source.slice(at).match(skip)[0].length;
  }
}
function withModulePaths(source, file) {
  const guest = guestPath(file);
  if (!guest) return source;
  const names = [];
  const directory = guest.slice(0, guest.lastIndexOf('/')) || '/';
  if (source.includes('__dirname') && !declares(source, '__dirname')) names.push(`__dirname = ${JSON.stringify(directory)}`);
  if (source.includes('__filename') && !declares(source, '__filename')) names.push(`__filename = ${JSON.stringify(guest)}`);
  if (source.includes('import.meta.')) {
    source = source
      .replaceAll('import.meta.url', JSON.stringify(`file://${guest}`))
      .replaceAll('import.meta.dirname', JSON.stringify(directory))
      .replaceAll('import.meta.filename', JSON.stringify(guest));
  }
  if (names.length === 0) return source;
  const at = afterPrologue(source);
  return `${source.slice(0, at)}var ${names.join(', ')};${source.slice(at)}`;
}

// SpiderMonkey here has no Unicode property data: `\p{...}` in a regular
// expression literal (path-to-regexp 8, Express 5) is rewritten into plain
// character classes at bundle time.
const rewritePattern = require('regexpu-core');
const REGEX_LITERAL = /\/((?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^\/\\\n\[])+)\/([dgimsuvy]*)/g;
const hasPropertyEscape = (text) => /\\[pP]\{/.test(text);
function rewriteLine(line) {
  return line.replace(REGEX_LITERAL, (literal, pattern, flags) => {
    if (!hasPropertyEscape(pattern) || (!flags.includes('u') && !flags.includes('v'))) return literal;
    const rewritten = rewritePattern(pattern, flags, { unicodePropertyEscapes: 'transform', unicodeSetsFlag: 'transform' });
    return `/${rewritten}/${flags.replace('v', 'u')}`;
  });
}
function withoutPropertyEscapes(source) {
  if (!hasPropertyEscape(source)) return source;
  return source
    .split('\n')
    .map((line) => (hasPropertyEscape(line) ? rewriteLine(line) : line))
    .join('\n');
}

// Files only the run-time registry reaches (a browser script in `public/`, a
// test, a package no code imports by name) may not bundle: one that fails to
// parse, or imports what cannot be found, becomes a module that throws
// node's MODULE_NOT_FOUND when required, instead of failing the build.
const registryOnly = new Set();
const missing = (what) =>
  `var e = new Error(${JSON.stringify(`Cannot find module '${what}' (fabricks: it could not be bundled)`)}); e.code = 'MODULE_NOT_FOUND'; throw e;`;
const sources = {
  name: 'fabricks-sources',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.fabricks || !registryOnly.has(args.importer)) return undefined;
      const result = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { fabricks: true } });
      if (result.errors.length === 0) return result;
      return { path: args.path, namespace: 'fabricks-missing' };
    });
    build.onLoad({ filter: /.*/, namespace: 'fabricks-missing' }, (args) => ({ contents: missing(args.path), loader: 'js' }));
    build.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
      const original = await readFile(args.path, 'utf8');
      const contents = withoutPropertyEscapes(withModulePaths(original, args.path));
      if (registryOnly.has(args.path)) {
        try {
          await esbuild.transform(contents, { loader: 'js', format: 'esm', logLevel: 'silent' });
        } catch {
          return { contents: missing(guestPath(args.path) ?? args.path), loader: 'js' };
        }
      }
      return contents === original ? undefined : { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

// The app's folder as the build staged it, for `fs` while the build loads
// the app (see files.js): every entry, and the contents of small files that
// are not media (a config file, `.env`, a template compiled at load time).
const VIEW_FILE_LIMIT = 256 * 1024;
const VIEW_TOTAL_LIMIT = 4 * 1024 * 1024;
const MEDIA = /\.(png|jpe?g|gif|webp|avif|ico|bmp|svgz|woff2?|ttf|otf|eot|mp[34]|webm|ogg|wav|pdf|zip|gz|br|zst|tar|wasm)$/i;
async function snapshotView() {
  const view = {};
  let total = 0;
  async function walk(host, guest) {
    const info = await stat(host);
    const entry = { type: info.isDirectory() ? 'directory' : 'file', size: info.size, mtimeMs: Math.floor(info.mtimeMs) };
    view[guest] = entry;
    if (info.isDirectory()) {
      entry.entries = (await readdir(host)).sort();
      for (const name of entry.entries) await walk(join(host, name), `${guest}/${name}`);
    } else if (info.size <= VIEW_FILE_LIMIT && total + info.size <= VIEW_TOTAL_LIMIT && !MEDIA.test(host)) {
      entry.data = (await readFile(host)).toString('base64');
      total += info.size;
    }
  }
  await walk(settings.appDir, settings.guestAppDir);
  // The packages folder by name only (a mount of its own while serving).
  const packages = (await readdir(modulesDir).catch(() => [])).filter((name) => !name.startsWith('.')).sort();
  view[`${settings.guestAppDir}/node_modules`] = { type: 'directory', size: 4096, mtimeMs: 0, entries: packages };
  for (const name of packages) view[`${settings.guestAppDir}/node_modules/${name}`] = { type: 'directory', size: 4096, mtimeMs: 0, entries: [] };
  if (!view[settings.guestAppDir].entries.includes('node_modules')) view[settings.guestAppDir].entries.push('node_modules');
  return view;
}

/** The app's own modules (JS and JSON) by host path, for the registry. */
async function appModules(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await appModules(path)));
    else if (/\.(c|m)?js$|\.json$/.test(entry.name) && (await stat(path)).size <= 1024 * 1024) found.push(path);
  }
  return found;
}

async function declaredDependencies() {
  try {
    const manifest = JSON.parse(await readFile(join(settings.appDir, 'package.json'), 'utf8'));
    return Object.keys(manifest.dependencies ?? {});
  } catch {
    return [];
  }
}

/** The bare names (packages, their subpaths, built-ins) the app's own
 * modules `reached` import, for the registry: an edited app loaded under
 * `up --watch` requires them by name. */
function importedNames(reached) {
  const names = new Set();
  for (const [input, info] of Object.entries(reached.metafile.inputs)) {
    if (!join(settings.buildDir, input).startsWith(settings.appDir + sep)) continue;
    for (const imported of info.imports) {
      if (imported.original && /^[^./]/.test(imported.original)) names.add(imported.original);
    }
  }
  return names;
}

/** Where the build records the names its registry gives (read by `--reload`). */
const REGISTERED_PACKAGES = join(settings.buildDir, 'registered-packages.json');

/** The app's modules, by guest path, with host paths, for a registry; the
 * ones `reached` (esbuild's inputs) does not hold may fail to bundle. */
async function registryFiles(reached) {
  const inputs = new Set(Object.keys(reached.metafile.inputs).map((input) => join(settings.buildDir, input)));
  const files = [];
  for (const host of await appModules(settings.appDir)) {
    if (!inputs.has(host)) registryOnly.add(host);
    files.push([guestPath(host), host]);
  }
  return { inputs, files };
}

/** `--reload`: the edited app's own modules as one CommonJS bundle, which
 * the component's instances evaluate in place of the app their snapshot
 * holds (handler.js): its packages and node's built-ins stay the
 * snapshot's, required by name through the registry (modules.js), and its
 * own modules come with a registry of their own for computed requires.
 * Exits 75 when it requires what the snapshot's registry cannot give (a
 * package not in package.json, a built-in the registry lacks): only a
 * rebuild serves that edit. A syntax error fails the bundle, as it would
 * the build. */
async function reloadBundle() {
  step('bundling the edited app with esbuild');
  const external = {
    name: 'fabricks-external',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
    },
  };
  const base = {
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    target: 'es2022',
    plugins: [external, sources],
    logLevel: 'error',
  };
  const reached = await esbuild.build({ ...base, entryPoints: [settings.appPath], write: false, metafile: true });
  const { files } = await registryFiles(reached);
  const shared = new Set([...(await readFile(join(settings.adapterDir, 'modules.js'), 'utf8')).match(/const BUILTINS = \{([^}]*)\}/)[1].matchAll(/[\w/]+/g)].map((m) => m[0]));
  const packages = new Set(JSON.parse(await readFile(REGISTERED_PACKAGES, 'utf8')));
  const needed = Object.values(reached.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path));
  const unavailable = [...new Set(needed)].filter((name) => {
    const bare = name.replace(/^node:/, '');
    return !shared.has(bare) && !packages.has(name);
  });
  if (unavailable.length > 0) {
    console.error(`fabricks: the edit requires ${unavailable.join(', ')}, which the built component does not give by name: rebuilding`);
    process.exit(75);
  }
  const entry = join(settings.buildDir, 'fabricks-reload-entry.js');
  await writeFile(
    entry,
    `// Generated by fabricks (up --watch): the edited app, loaded on demand.\n` +
      `module.exports = {\n  app: () => require(${JSON.stringify(settings.appPath)}),\n  files: {\n` +
      files.map(([guest, host]) => `    ${JSON.stringify(guest)}: () => require(${JSON.stringify(host)}),\n`).join('') +
      `  },\n};\n`,
  );
  await esbuild.build({ ...base, entryPoints: [entry], outfile: reloading.output });
}
if (reloading) {
  await reloadBundle();
  process.exit(0);
}

const boot = join(settings.buildDir, 'fabricks-boot.js');
const entry = join(settings.buildDir, 'fabricks-entry.js');
const adapterFile = (name) => JSON.stringify(join(settings.adapterDir, name));
await writeFile(
  entry,
  `// Generated by fabricks: serves ${JSON.stringify(settings.app)} (${settings.framework}).\n` +
    `import ${JSON.stringify(boot)};\n` +
    `import * as userModule from ${JSON.stringify(settings.appPath)};\n` +
    `import { incomingHandlerFor } from ${adapterFile('handler.js')};\n` +
    `export { lifecycle } from ${adapterFile('handler.js')};\n` +
    `export const incomingHandler = incomingHandlerFor(userModule, ${JSON.stringify(settings.handler)});\n`,
);

/** The boot module, evaluated before the app: the environment, the
 * snapshot view, and `require` with the registry (`files`: guest path →
 * host path; `packages`: names). */
async function writeBoot(files, packages) {
  const lazy = (target) => `() => require(${JSON.stringify(target)})`;
  await writeFile(
    boot,
    `// Generated by fabricks: what the app finds before its first line runs.\n` +
      `import { useSnapshotView } from ${adapterFile('files.js')};\n` +
      `import { installRequire } from ${adapterFile('modules.js')};\n` +
      `Object.assign(process.env, ${JSON.stringify(settings.environment)});\n` +
      `useSnapshotView(${JSON.stringify(await snapshotView())}, ${VIEW_FILE_LIMIT});\n` +
      `installRequire({\n${files.map(([guest, host]) => `  ${JSON.stringify(guest)}: ${lazy(host)},\n`).join('')}}, {\n` +
      `${packages.map((name) => `  ${JSON.stringify(name)}: ${lazy(name)},\n`).join('')}});\n`,
  );
}

const options = {
  entryPoints: [entry],
  outfile: bundle,
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  conditions: ['worker', 'browser'],
  mainFields: ['browser', 'module', 'main'],
  nodePaths: [modulesDir, toolchainModules],
  external: ['wasi:*', 'fabricks:*'],
  plugins: [builtins, sources],
  inject: [join(shims, 'globals.js')],
  logLevel: 'error',
};

// First what the app reaches by name; then the registry adds what it does
// not: the app's other modules and its declared packages.
step('bundling with esbuild');
await writeBoot([], []);
const reached = await esbuild.build({ ...options, write: false, metafile: true });
const { inputs, files } = await registryFiles(reached);
const reachedPackage = (name) => [...inputs].some((input) => input.startsWith(join(modulesDir, name) + sep));
const declared = (await declaredDependencies()).filter((name) => {
  if (reachedPackage(name)) return true;
  try {
    registryOnly.add(createRequire(join(settings.appDir, 'package.json')).resolve(name, { paths: [modulesDir] }));
    return true;
  } catch {
    return false;
  }
});
const packages = [...new Set([...declared, ...importedNames(reached)])].sort();
await writeFile(REGISTERED_PACKAGES, JSON.stringify(packages));
await writeBoot(files, packages);
await esbuild.build(options);

step('componentize-js: snapshotting the engine with the app loaded');
const { componentize } = await load('@bytecodealliance/componentize-js');
await changeGeneratedBindings(pathToFileURL(join(toolchainModules, '@bytecodealliance', 'componentize-js', 'lib', 'spidermonkey-embedding-splicer.js')).href);
const { component } = await componentize({
  sourcePath: bundle,
  witPath: settings.witDir,
  worldName: settings.world,
});
await writeFile(settings.output, component);
