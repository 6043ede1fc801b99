// The Node-style request listener the app registered through
// `http.createServer(app)` / `app.listen()`, when it did.
let listener = null;

export function registerListener(fn) {
  listener = fn;
}

export function registeredListener() {
  return listener;
}
