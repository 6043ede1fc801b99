// Picks the bridge for the user's app object and exports the
// `wasi:http/incoming-handler` the component serves requests through:
// - an object with `fetch` (Hono, `export default { fetch }`): the fetch bridge;
// - a `(req, res)` function (Express): the Node bridge;
// - otherwise the listener of a server the app created with
//   `http.createServer` / `app.listen()` (Fastify): the Node bridge.
// Work the app scheduled while the build snapshotted it (Fastify's plugin
// loading) runs at the first request, and an app with `ready()` is awaited.

import { fetchHandler } from './fetch-bridge.js';
import { registeredListener } from './listener.js';
import { nodeHandler } from './node-bridge.js';

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
    if (app && typeof app.ready === 'function' && typeof app.fetch !== 'function') await app.ready();
    return bridgeFor(app);
  }
  return {
    async handle(incoming, responseOut) {
      started ??= start();
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
