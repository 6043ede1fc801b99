// Picks the bridge for the user's app object and exports the
// `wasi:http/incoming-handler` the component serves requests through:
// - an object with `fetch` (Hono, `export default { fetch }`): the fetch bridge;
// - a `(req, res)` function (Express): the Node bridge;
// - otherwise the listener of a server the app created with
//   `http.createServer` / `app.listen()` (Fastify): the Node bridge.
// Work the app scheduled while the build snapshotted it (Fastify's plugin
// loading) runs at the first request, and an app with `ready()` is awaited.

import { fetchHandler } from './fetch-bridge.js';
import { readFile } from './files.js';
import { registeredListener } from './listener.js';
import { replaceAppModules } from './modules.js';
import { nodeHandler } from './node-bridge.js';

// `up --watch`: an instance whose environment says so serves the edited
// app the watcher bundled (build.mjs --reload) and mounted here, loaded
// over the packages and built-ins of its snapshot, instead of the app the
// snapshot holds, as `node --watch` would restart on the edit.
const RELOAD_VARIABLE = 'FABRICKS_RELOAD_APP';
const RELOAD_BUNDLE = '/fabricks-reload/app.js';

function reloadedModule() {
  const code = new TextDecoder().decode(readFile(RELOAD_BUNDLE));
  const module = { exports: {} };
  // What the build injects into every module (shims/globals.js), given as the same objects.
  const injected = { process, Buffer, global: globalThis, setImmediate, clearImmediate };
  new Function('require', 'module', 'exports', ...Object.keys(injected), code)(globalThis.require, module, module.exports, ...Object.values(injected));
  replaceAppModules(module.exports.files);
  return module.exports.app();
}

function appOf(userModule, exportName) {
  return userModule[exportName] ?? userModule.default?.[exportName] ?? userModule.default;
}

function bridgeFor(app) {
  if (app && typeof app.fetch === 'function') return fetchHandler(app);
  if (typeof app === 'function') return nodeHandler(app);
  const listener = registeredListener();
  return listener ? nodeHandler(listener) : null;
}

export function incomingHandlerFor(userModule, exportName) {
  const app = appOf(userModule, exportName);
  if (!(app && typeof app.fetch === 'function') && typeof app !== 'function' && !registeredListener()) {
    throw new Error(
      `fabricks: the export ${JSON.stringify(exportName)} is not an app fabricks can serve: ` +
        'export an object with a fetch method (Hono) or a (req, res) function (Express), or create a server (http.createServer, app.listen)',
    );
  }
  let started = null;
  async function start() {
    await globalThis.__fabricksFinishInitialization?.();
    let served = app;
    if (process.env[RELOAD_VARIABLE] === '1') served = appOf(reloadedModule(), exportName);
    if (served && typeof served.ready === 'function' && typeof served.fetch !== 'function') await served.ready();
    return bridgeFor(served);
  }
  return {
    async handle(incoming, responseOut) {
      // A start that failed (an edited app that throws) is tried again.
      started ??= start().catch((error) => {
        started = null;
        throw error;
      });
      const bridge = await started;
      return bridge.handle(incoming, responseOut);
    },
  };
}

// fabricks' own `lifecycle` export (adapters/wit/lifecycle.wit). Exporting
// it says what this component is: an app written for a long-lived process,
// so the host reuses its instances (and calls `retire` before dropping
// one). There is nothing to shut down yet: the guest's `process` emits no
// events ('exit', 'beforeExit'), so the app registered no handlers to run.
export const lifecycle = {
  retire() {},
};
