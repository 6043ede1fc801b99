// `dns` for the guest: it resolves nothing itself (outbound requests name
// their hosts, and the host resolves them); `lookup` answers for IP literals
// and `localhost`, what servers ask when they are told where to listen.
function addressesOf(hostname) {
  if (!hostname || hostname === 'localhost') return [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }];
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(hostname)) return [{ address: hostname, family: 4 }];
  if (hostname.includes(':')) return [{ address: hostname.replace(/^\[|\]$/g, ''), family: 6 }];
  return null;
}

function notFound(hostname) {
  const error = new Error(`getaddrinfo ENOTFOUND ${hostname} (fabricks: the guest resolves no names; outbound requests name their hosts and the host resolves them)`);
  Object.assign(error, { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname });
  return error;
}

function answer(hostname, options) {
  const family = typeof options === 'number' ? options : options?.family ?? 0;
  const found = addressesOf(hostname)?.filter((a) => !family || a.family === family || family === 'IPv' + a.family);
  if (!found || found.length === 0) throw notFound(hostname);
  return options?.all ? found : found[0];
}

export function lookup(hostname, options, callback) {
  if (typeof options === 'function') [options, callback] = [{}, options];
  let result;
  try {
    result = answer(hostname, options);
  } catch (error) {
    queueMicrotask(() => callback(error));
    return;
  }
  queueMicrotask(() => (options?.all ? callback(null, result) : callback(null, result.address, result.family)));
}

export const promises = {
  lookup: async (hostname, options) => answer(hostname, options),
};

export default { lookup, promises };
