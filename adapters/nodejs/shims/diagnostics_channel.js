// `diagnostics_channel` for the guest: channels nobody subscribes to.
class Channel {
  constructor(name) {
    this.name = name;
    this.subscribers = [];
  }
  get hasSubscribers() {
    return this.subscribers.length > 0;
  }
  publish(message) {
    for (const subscriber of this.subscribers) subscriber(message, this.name);
  }
  subscribe(fn) {
    this.subscribers.push(fn);
  }
  unsubscribe(fn) {
    const at = this.subscribers.indexOf(fn);
    if (at >= 0) this.subscribers.splice(at, 1);
    return at >= 0;
  }
  bindStore() {}
  unbindStore() {}
  runStores(context, fn, thisArg, ...args) {
    return fn.apply(thisArg, args);
  }
}
const channels = new Map();
export function channel(name) {
  if (!channels.has(name)) channels.set(name, new Channel(name));
  return channels.get(name);
}
export function hasSubscribers(name) {
  return channels.has(name) && channels.get(name).hasSubscribers;
}
export function subscribe(name, fn) {
  channel(name).subscribe(fn);
}
export function unsubscribe(name, fn) {
  return channel(name).unsubscribe(fn);
}
export function tracingChannel(name) {
  const parts = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'];
  const tracing = Object.fromEntries(parts.map((part) => [part, channel(`tracing:${name}:${part}`)]));
  return {
    ...tracing,
    get hasSubscribers() {
      return parts.some((part) => tracing[part].hasSubscribers);
    },
    subscribe() {},
    unsubscribe() {},
    traceSync(fn, context, thisArg, ...args) {
      return fn.apply(thisArg, args);
    },
    tracePromise(fn, context, thisArg, ...args) {
      return fn.apply(thisArg, args);
    },
    traceCallback(fn, position, context, thisArg, ...args) {
      return fn.apply(thisArg, args);
    },
  };
}
export default { channel, hasSubscribers, subscribe, unsubscribe, tracingChannel };
