import type { Clock, TimerHandle, Timers } from './clock.js';

/**
 * Scrapes closer together than this share one read: 500 scrapers back to back cost a read a
 * second, not a read each.
 */
export const MIN_READ_GAP_MS = 1000;
/** A read ahead of the next scrape starts at least this long before it (or twice the last read's time). */
const MIN_LEAD_MS = 250;
/** After the first scrape, the next is expected after Prometheus's default interval. */
const FIRST_GAP_MS = 15_000;

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
 * One source read at a time, whose result outlives whoever asked for it.
 *
 * A scrape (`forScrape`) takes what is known, and times the next read to be in just before the
 * next scrape is due (read ahead, from the gaps between the last scrapes): the scrape costs
 * writing what is known, and what it writes is about as fresh as if it had waited for the
 * source. Only a source never read yet is waited for, until the scrape's hand-over signal.
 * Nobody scraping, nothing is read.
 *
 * `refresh` is a read now, waited for until a signal (the probe's look at a runtime's load).
 * Either way a read finishes in the background, bounded by its own timeout, so a slow or hung
 * source never holds `/metrics`, and never piles up reads either.
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
  /** When the last three scrapes came (monotonic ms), the newest last: two gaps. */
  private scrapes: number[] = [];
  private readAhead: TimerHandle | undefined;
  /** How long the last read took. */
  private lastReadMs = 0;
  /** When the last read ended (monotonic ms); undefined before any did. */
  private settledAtMs: number | undefined;

  constructor(
    private readonly read: (signal: AbortSignal) => Promise<T>,
    private readonly options: {
      readonly clock: Clock;
      /** The read-ahead's timer. */
      readonly timers: Timers;
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

  /**
   * For a scrape: true when what is known is current, false when it is behind (the first read
   * did not end by `handOver`, or a read has run since before the previous scrape, for over
   * a second: a slow or hung source, said once per read through `missed`).
   */
  async forScrape(handOver: AbortSignal): Promise<boolean> {
    const now = this.options.clock.monotonicMs();
    const previous = this.scrapes.at(-1);
    this.scrapes = [...this.scrapes.slice(-2), now];
    if (this.readAhead !== undefined) this.options.timers.clearTimeout(this.readAhead);
    this.readAhead = undefined;
    try {
      if (this.settledAtMs === undefined) return await this.refresh(handOver);
      if (this.runningSince !== undefined) {
        const behind =
          previous !== undefined &&
          this.runningSince <= previous &&
          now - this.runningSince >= MIN_READ_GAP_MS;
        if (behind) this.outlasted = true;
        return this.outlasted ? this.miss() : true;
      }
      // Scrapes too close together to read ahead of: one of them a second starts a read.
      if (this.gapMs() === undefined && now - this.settledAtMs >= MIN_READ_GAP_MS)
        void (this.running ??= this.start());
      return !this.outlasted;
    } finally {
      this.scheduleReadAhead();
    }
  }

  /**
   * When the next scrape is expected: after the shorter of the last two gaps (two Prometheus
   * servers scraping at different offsets); undefined for scrapes too close to read ahead of.
   */
  private gapMs(): number | undefined {
    const [a, b, c] = this.scrapes;
    if (b === undefined) return FIRST_GAP_MS;
    const gap = c === undefined ? b - a! : Math.min(b - a!, c - b);
    return gap >= MIN_READ_GAP_MS ? gap : undefined;
  }

  private scheduleReadAhead(): void {
    const gap = this.gapMs();
    if (gap === undefined || this.stopped.signal.aborted) return;
    const lead = Math.min(gap / 2, Math.max(MIN_LEAD_MS, 2 * this.lastReadMs));
    this.readAhead = this.options.timers.setTimeout(() => {
      this.readAhead = undefined;
      void (this.running ??= this.start());
    }, gap - lead);
    this.readAhead.unref();
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
    if (this.readAhead !== undefined) this.options.timers.clearTimeout(this.readAhead);
    this.readAhead = undefined;
  }

  /** Forgets the last results (the source was replaced). */
  forget(): void {
    this.good = undefined;
    this.failed = undefined;
    this.lastWasGood = false;
    this.outlasted = false;
    this.settledAtMs = undefined;
  }

  private start(): Promise<void> {
    const since = this.options.clock.monotonicMs();
    this.runningSince = since;
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
        this.settledAtMs = this.options.clock.monotonicMs();
        this.lastReadMs = this.settledAtMs - since;
        this.running = undefined;
        this.runningSince = undefined;
      });
  }
}
