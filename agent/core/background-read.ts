import type { Clock } from './clock.js';

/** The last read that succeeded, and when. */
export interface Good<T> {
  readonly value: T;
  readonly atEpochMs: number;
  readonly atMonotonicMs: number;
}

/** The last read that failed, and when. */
export interface Failed {
  readonly error: unknown;
  readonly atMonotonicMs: number;
}

/**
 * One source read at a time, whose result outlives the scrape that asked for it: a scrape
 * starts a read (unless one is running), waits for it until its hand-over signal fires, and
 * then goes on with what is known; the read finishes in the background, bounded by its own
 * timeout, and its result is there for the next scrape. So a slow or hung source never holds
 * `/metrics`, and never piles up reads either.
 */
export class BackgroundRead<T> {
  private running: Promise<void> | undefined;
  private runningSince: number | undefined;
  private good: Good<T> | undefined;
  private failed: Failed | undefined;
  /** Which of the two came last (clocks in tests may stand still). */
  private lastWasGood = false;
  /**
   * A read outlasted a scrape's wait, and none has succeeded since: the source is hung or
   * slow, so the next scrapes do not wait for it (their reads go on in the background).
   */
  private outlasted = false;
  /** The read in progress has been gone without by a scrape already (`missed` was called). */
  private missedThisRead = false;
  private readonly stopped = new AbortController();

  constructor(
    private readonly read: (signal: AbortSignal) => Promise<T>,
    private readonly options: {
      readonly clock: Clock;
      /** The longest one read may take; past it, it is aborted and counts as failed. */
      readonly timeoutMs: number;
      /** Called as each read ends, before anyone waiting hears of it. */
      readonly settled?: (outcome: { ok: true; value: T } | { ok: false; error: unknown }) => void;
      /** Called once per read that a scrape had to go without (to count it as slow once). */
      readonly missed?: () => void;
    },
  ) {}

  /**
   * Starts a read unless one is running, and waits for it at most until `handOver` fires;
   * not at all while the source is known to outlast a wait (until a read succeeds again).
   * True when the read ended in time (its result is then `last` or `failure`).
   */
  async refresh(handOver: AbortSignal): Promise<boolean> {
    const run = (this.running ??= this.start());
    if (handOver.aborted || this.outlasted) return this.miss();
    let onAbort: (() => void) | undefined;
    const gaveUp = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      handOver.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const inTime = await Promise.race([run.then(() => true as const), gaveUp]);
      if (inTime) return true;
      this.outlasted = true;
      return this.miss();
    } finally {
      if (onAbort) handOver.removeEventListener('abort', onAbort);
    }
  }

  /** A scrape goes without the read in progress; said once per read. */
  private miss(): false {
    if (this.running !== undefined && !this.missedThisRead) {
      this.missedThisRead = true;
      this.options.missed?.();
    }
    return false;
  }

  /** The last good read, if any. */
  get last(): Good<T> | undefined {
    return this.good;
  }

  /** The last failed read, if it is more recent than the last good one. */
  get failure(): Failed | undefined {
    return this.lastWasGood ? undefined : this.failed;
  }

  /** How long the read in progress has been running, if one is. */
  runningForMs(): number | undefined {
    return this.runningSince === undefined
      ? undefined
      : this.options.clock.monotonicMs() - this.runningSince;
  }

  /** Aborts the read in progress; no new one starts. */
  stop(): void {
    this.stopped.abort();
  }

  /** Forgets the last results (the source was replaced). */
  forget(): void {
    this.good = undefined;
    this.failed = undefined;
    this.lastWasGood = false;
    this.outlasted = false;
  }

  private start(): Promise<void> {
    this.runningSince = this.options.clock.monotonicMs();
    this.missedThisRead = false;
    const signal = AbortSignal.any([
      this.stopped.signal,
      AbortSignal.timeout(this.options.timeoutMs),
    ]);
    return Promise.resolve()
      .then(() => this.read(signal))
      .then(
        (value) => {
          const now = this.options.clock.monotonicMs();
          this.good = { value, atEpochMs: this.options.clock.epochMs(), atMonotonicMs: now };
          this.lastWasGood = true;
          this.outlasted = false;
          this.options.settled?.({ ok: true, value });
        },
        (error: unknown) => {
          this.failed = { error, atMonotonicMs: this.options.clock.monotonicMs() };
          this.lastWasGood = false;
          this.options.settled?.({ ok: false, error });
        },
      )
      .finally(() => {
        this.running = undefined;
        this.runningSince = undefined;
      });
  }
}
