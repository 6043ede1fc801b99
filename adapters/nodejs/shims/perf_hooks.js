// `perf_hooks` for the guest: the engine's `performance`.
export const performance = globalThis.performance;
export class PerformanceObserver {
  observe() {}
  disconnect() {}
}
export function monitorEventLoopDelay() {
  return { enable() {}, disable() {}, percentile: () => 0, mean: 0, max: 0, min: 0 };
}
export default { performance, PerformanceObserver, monitorEventLoopDelay };
