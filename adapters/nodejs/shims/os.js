// `os` for the guest: one single-threaded CPU, POSIX conventions, and no
// host details (the guest cannot see the machine it runs on).
const cpu = { model: 'wasm32', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };

export const EOL = '\n';
export const devNull = '/dev/null';
export const constants = { signals: {}, errno: {}, priority: {} };
export const arch = () => 'wasm32';
export const platform = () => 'linux';
export const type = () => 'Linux';
export const release = () => '';
export const version = () => '';
export const machine = () => 'wasm32';
export const hostname = () => 'localhost';
export const homedir = () => '/';
export const tmpdir = () => '/tmp';
export const endianness = () => 'LE';
export const uptime = () => performance.now() / 1000;
export const loadavg = () => [0, 0, 0];
export const totalmem = () => 4 * 1024 * 1024 * 1024;
export const freemem = () => 4 * 1024 * 1024 * 1024;
export const availableParallelism = () => 1;
export const cpus = () => [cpu];
export const networkInterfaces = () => ({});
export const userInfo = () => ({ uid: 0, gid: 0, username: 'app', homedir: '/', shell: null });

export default {
  EOL, devNull, constants, arch, platform, type, release, version, machine, hostname, homedir, tmpdir, endianness,
  uptime, loadavg, totalmem, freemem, availableParallelism, cpus, networkInterfaces, userInfo,
};
