// `async_hooks` for the guest: one request at a time, so an async resource
// runs its function in place and local storage is a plain slot.
export class AsyncResource {
  constructor(type) {
    this.type = type;
  }
  runInAsyncScope(fn, thisArg, ...args) {
    return fn.apply(thisArg, args);
  }
  bind(fn) {
    return fn;
  }
  static bind(fn) {
    return fn;
  }
  emitDestroy() {
    return this;
  }
  asyncId() {
    return 0;
  }
  triggerAsyncId() {
    return 0;
  }
}
export class AsyncLocalStorage {
  run(store, fn, ...args) {
    const previous = this.store;
    this.store = store;
    try {
      return fn(...args);
    } finally {
      this.store = previous;
    }
  }
  getStore() {
    return this.store;
  }
  enterWith(store) {
    this.store = store;
  }
  exit(fn, ...args) {
    return this.run(undefined, fn, ...args);
  }
  disable() {
    this.store = undefined;
  }
}
export const executionAsyncId = () => 0;
export const triggerAsyncId = () => 0;
export function createHook() {
  return { enable() { return this; }, disable() { return this; } };
}
export default { AsyncResource, AsyncLocalStorage, executionAsyncId, triggerAsyncId, createHook };
