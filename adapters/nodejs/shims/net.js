// `net` for the guest: address checks only; no sockets.
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export function isIPv4(text) {
  return IPV4.test(String(text));
}
export function isIPv6(text) {
  const s = String(text);
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s.replace(/%.*$/, ''));
}
export function isIP(text) {
  return isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
}
export class Socket {
  constructor() {
    throw new Error('fabricks: sockets are not available in a guest');
  }
}
export function connect() {
  new Socket();
}
export const createConnection = connect;
export default { isIP, isIPv4, isIPv6, Socket, connect, createConnection };
