// A Node built-in the guest has no counterpart for (worker_threads, child
// process, ...): importable, empty. Code that needs it at run time fails there.
export const isMainThread = true;
export const parentPort = null;
export const workerData = null;
export default { isMainThread, parentPort, workerData };
