import { performance } from 'node:perf_hooks';

/** Time, injected so tests can drive it. */
export interface Clock {
  /** Monotonic milliseconds, for durations and staleness. */
  monotonicMs(): number;
  /** Wall-clock milliseconds since the epoch, for timestamps users read. */
  epochMs(): number;
}

export const systemClock: Clock = Object.freeze({
  monotonicMs: () => performance.now(),
  epochMs: () => Date.now(),
});
