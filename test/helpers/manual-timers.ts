import type { Clock, TimerHandle, Timers } from '../../agent/core/clock.js';

interface Pending extends TimerHandle {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cleared: boolean;
}

/**
 * A clock and timers that move only when the test says: `advance(ms)` fires, in order, every
 * timer due by then, letting the promises each one settles run before the next. No test
 * waits for real time to pass.
 */
export class ManualTimers implements Timers, Clock {
  private now = 0;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(private readonly epochAtZeroMs = 1_700_000_000_000) {}

  monotonicMs(): number {
    return this.now;
  }

  epochMs(): number {
    return this.epochAtZeroMs + this.now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: Pending = {
      at: this.now + Math.max(0, ms),
      seq: this.seq++,
      callback,
      cleared: false,
      unref: () => undefined,
    };
    this.pending.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as Pending).cleared = true;
  }

  /** Moves time on by `ms`. With no timer due, the clock moves at once, before any await. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      this.pending = this.pending.filter((t) => !t.cleared);
      const due = this.pending
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.pending = this.pending.filter((t) => t !== due);
      this.now = due.at;
      due.callback();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.now = end;
  }
}
