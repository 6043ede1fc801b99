// Picks the bridge for the user's app object and exports the
// `wasi:http/incoming-handler` the component serves requests through:
// - an object with `fetch` (Hono, `export default { fetch }`): the fetch bridge;
// - a `(req, res)` function (Express): the Node bridge;
// - nothing usable exported, but a server created with `http.createServer`
//   / `app.listen()`: the Node bridge with the listener it registered.

import { fetchHandler } from './fetch-bridge.js';
import { registeredListener } from './listener.js';
import { nodeHandler } from './node-bridge.js';

export function incomingHandlerFor(userModule, exportName) {
  const app = userModule[exportName] ?? userModule.default?.[exportName] ?? userModule.default;
  if (app && typeof app.fetch === 'function') return fetchHandler(app);
  if (typeof app === 'function') return nodeHandler(app);
  const listener = registeredListener();
  if (listener) return nodeHandler(listener);
  throw new Error(
    `fabricks: the export ${JSON.stringify(exportName)} is not an app fabricks can serve: ` +
      'export an object with a fetch method (Hono) or a (req, res) function (Express), or start a server with app.listen()',
  );
}
