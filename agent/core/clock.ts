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

/** A timer that was set, to clear it. */
export interface TimerHandle {
  /** Lets the process exit while the timer waits. */
  unref(): void;
}

/** Timers, injected with the clock so tests drive time rather than wait for it. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemTimers: Timers = Object.freeze({
  // Looked up at each call, not at import: a test's fake timers replace the globals.
  setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as NodeJS.Timeout),
});

/**
 * Calls `tick` every `ms` on the given timers until the returned function is called; the
 * process may exit meanwhile.
 */
/** Waits for `promise` to settle, or `ms` to pass, whichever comes first; never rejects. */
export async function settledWithin(
  timers: Timers,
  promise: Promise<unknown>,
  ms: number,
): Promise<void> {
  let handle: TimerHandle | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => (handle = timers.setTimeout(resolve, ms))),
  ]);
  if (handle) timers.clearTimeout(handle);
}

export function every(timers: Timers, ms: number, tick: () => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const arm = () => {
    handle = timers.setTimeout(() => {
      if (stopped) return;
      arm();
      tick();
    }, ms);
    handle.unref();
  };
  arm();
  return () => {
    stopped = true;
    if (handle) timers.clearTimeout(handle);
  };
}
