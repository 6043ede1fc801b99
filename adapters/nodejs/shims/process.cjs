// `process` / `node:process` for the guest: the very object the globals
// shim sets up (cwd, env, stdout, versions), not a second polyfill.
module.exports = require('process/browser.js');
