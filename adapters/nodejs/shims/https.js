// `https` for the guest: `http`'s server classes and a client whose
// requests default to https (TLS is the host's: the guest's fetch asks for it).
import http from './http.js';
import { clientFor } from '../http-client.js';

export * from './http.js';
export const { request, get } = clientFor('https:');
export default { ...http, request, get };
