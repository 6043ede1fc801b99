// Picks the bridge for the user's app object and exports the
// `wasi:http/incoming-handler` the component serves requests through.

import { fetchHandler } from './fetch-bridge.js';

export function incomingHandlerFor(userModule, exportName) {
  const app = userModule[exportName] ?? userModule.default?.[exportName] ?? userModule.default;
  if (app && typeof app.fetch === 'function') return fetchHandler(app);
  throw new Error(
    `fabricks: the export ${JSON.stringify(exportName)} is not an app fabricks can serve ` +
      '(an object with a fetch method, like a Hono app)',
  );
}
