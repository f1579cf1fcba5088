import {
  systemClock,
  systemTimers,
  type Clock,
  type TimerHandle,
  type Timers,
} from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Canary, ProbeModule, ProbeResult, ProbeTarget } from './types.js';

export interface ScheduleOptions {
  readonly intervalS: number;
  readonly jitterRatio: number;
  /** Every Nth run is a canary; 0: never. */
  readonly canaryEvery: number;
  readonly canaries: readonly Canary[];
  readonly backoffMaxS: number;
  /** 0..1, for each target's offset in the interval and each run's jitter. */
  readonly random: () => number;
}

export type Execute = (
  target: ProbeTarget,
  module: ProbeModule,
  canary: Canary | undefined,
) => Promise<ProbeResult>;

/** A run that did not happen, for the counters. */
export type Skip = (
  target: ProbeTarget,
  module: ProbeModule,
  reason: 'in_flight' | 'backoff',
) => void;

interface TargetState {
  target: ProbeTarget;
  /** Where in each interval its runs fall, from the epoch. */
  readonly offsetMs: number;
  timer: TimerHandle | undefined;
  ticks: number;
  canaryIndex: number;
  inFlight: Promise<void> | undefined;
  failures: number;
  skipTicks: number;
}

/**
 * The first time after `nowMs` that is `offsetMs` into an interval counted from the epoch: a
 * target keeps its place in every interval (and a fleet's targets, at random offsets, do not
 * land in the same second), whatever the interval.
 */
export function nextRunAt(nowMs: number, intervalMs: number, offsetMs: number): number {
  return (Math.floor((nowMs - offsetMs) / intervalMs) + 1) * intervalMs + offsetMs;
}

/**
 * Each target is probed once per interval at its own random offset, plus a random delay per
 * run (the jitter). One run in flight per target; after failures it backs off exponentially,
 * counting the runs it leaves out. Time comes from the injected clock and timers.
 */
export class ProbeScheduler {
  private readonly states = new Map<string, TargetState>();

  constructor(
    private readonly options: ScheduleOptions,
    private readonly execute: Execute,
    private readonly skip: Skip,
    private readonly logger: Logger,
    private readonly time: { readonly clock: Clock; readonly timers: Timers } = {
      clock: systemClock,
      timers: systemTimers,
    },
  ) {}

  /** Starts probing new targets, stops probing gone ones, and takes changes (a new URL). */
  sync(targets: readonly ProbeTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.target, t]));
    for (const [name, state] of this.states) {
      if (wanted.has(name)) continue;
      this.disarm(state);
      this.states.delete(name);
    }
    for (const target of targets) {
      const state = this.states.get(target.target);
      if (state) state.target = target;
      else this.states.set(target.target, this.schedule(target));
    }
  }

  get targets(): readonly ProbeTarget[] {
    return [...this.states.values()].map((s) => s.target);
  }

  /** Stops every schedule and waits for the runs in flight. */
  async stop(): Promise<void> {
    const states = [...this.states.values()];
    this.states.clear();
    for (const state of states) this.disarm(state);
    await Promise.allSettled(states.map((s) => s.inFlight));
  }

  private schedule(target: ProbeTarget): TargetState {
    const intervalMs = this.options.intervalS * 1000;
    const offsetMs = Math.min(Math.floor(this.options.random() * intervalMs), intervalMs - 1);
    const state: TargetState = {
      target,
      offsetMs,
      timer: undefined,
      ticks: 0,
      canaryIndex: 0,
      inFlight: undefined,
      failures: 0,
      skipTicks: 0,
    };
    this.arm(state);
    this.logger.debug({ target: target.target, offset_ms: offsetMs }, 'probe scheduled');
    return state;
  }

  /** Sets the timer of the target's next run: its place in the next interval, plus jitter. */
  private arm(state: TargetState): void {
    const { clock, timers } = this.time;
    const intervalMs = this.options.intervalS * 1000;
    const now = clock.epochMs();
    const jitterMs = Math.floor(this.options.random() * intervalMs * this.options.jitterRatio);
    const delay = nextRunAt(now, intervalMs, state.offsetMs) - now + jitterMs;
    state.timer = timers.setTimeout(() => {
      // The next run is set before this one starts: a slow run never shifts the schedule.
      if (this.states.get(state.target.target) !== state) return;
      this.arm(state);
      void this.tick(state);
    }, delay);
    state.timer.unref();
  }

  private disarm(state: TargetState): void {
    if (state.timer) this.time.timers.clearTimeout(state.timer);
    state.timer = undefined;
  }

  private async tick(state: TargetState): Promise<void> {
    const { canaryEvery, canaries } = this.options;
    const n = state.ticks++;
    const module: ProbeModule =
      canaryEvery > 0 && canaries.length > 0 && n % canaryEvery === canaryEvery - 1
        ? 'canary'
        : 'latency';
    if (state.inFlight) return this.skip(state.target, module, 'in_flight');
    if (state.skipTicks > 0) {
      state.skipTicks--;
      return this.skip(state.target, module, 'backoff');
    }
    const canary =
      module === 'canary' ? canaries[state.canaryIndex++ % canaries.length] : undefined;
    state.inFlight = this.execute(state.target, module, canary).then(
      (result) => this.backoff(state, result),
      (error: unknown) =>
        this.logger.error({ err: error, target: state.target.target }, 'probe run threw'),
    );
    try {
      await state.inFlight;
    } finally {
      state.inFlight = undefined;
    }
  }

  /** 1, 3, 7, ... runs left out after 1, 2, 3, 4 failures in a row, up to backoff_max_s. */
  private backoff(state: TargetState, result: ProbeResult): void {
    if (result.outcome === 'skipped') return;
    // A wrong canary answer is not the runtime refusing work: no reason to back off.
    if (result.outcome === 'success' || result.reason === 'content_mismatch') {
      state.failures = 0;
      return;
    }
    state.failures++;
    const maxRuns = Math.max(1, Math.floor(this.options.backoffMaxS / this.options.intervalS));
    state.skipTicks = Math.min(2 ** Math.min(state.failures - 1, 20), maxRuns) - 1;
  }
}
