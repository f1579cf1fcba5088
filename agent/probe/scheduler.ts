import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../core/logger.js';
import type { Canary, ProbeModule, ProbeResult, ProbeTarget } from './types.js';

export interface ScheduleOptions {
  readonly intervalS: number;
  readonly jitterRatio: number;
  /** Every Nth run is a canary; 0: never. */
  readonly canaryEvery: number;
  readonly canaries: readonly Canary[];
  readonly backoffMaxS: number;
  /** 0..1, for each target's offset in the interval. */
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
  readonly task: ScheduledTask;
  ticks: number;
  canaryIndex: number;
  inFlight: Promise<void> | undefined;
  failures: number;
  skipTicks: number;
}

/**
 * One node-cron task per target, at a random offset in the interval (so a fleet's probes do
 * not land in the same second) plus a random delay per run. One run in flight per target;
 * after failures it backs off exponentially, counting the runs it leaves out.
 */
export class ProbeScheduler {
  private readonly states = new Map<string, TargetState>();

  constructor(
    private readonly options: ScheduleOptions,
    private readonly execute: Execute,
    private readonly skip: Skip,
    private readonly logger: Logger,
  ) {}

  /** Starts probing new targets, stops probing gone ones, and takes changes (a new URL). */
  sync(targets: readonly ProbeTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.target, t]));
    for (const [name, state] of this.states) {
      if (wanted.has(name)) continue;
      void state.task.destroy();
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
    await Promise.all(states.map((s) => s.task.destroy()));
    await Promise.allSettled(states.map((s) => s.inFlight));
  }

  private schedule(target: ProbeTarget): TargetState {
    const { intervalS, jitterRatio } = this.options;
    const expression = cronExpression(intervalS, this.options.random());
    const state: TargetState = {
      target,
      task: cron.schedule(expression, () => this.tick(state), {
        name: `probe ${target.target}`,
        maxRandomDelay: Math.floor(intervalS * 1000 * jitterRatio),
        logger: cronLogger(this.logger),
      }),
      ticks: 0,
      canaryIndex: 0,
      inFlight: undefined,
      failures: 0,
      skipTicks: 0,
    };
    this.logger.debug({ target: target.target, schedule: expression }, 'probe scheduled');
    return state;
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

/**
 * A six-field cron expression firing every `intervalS` seconds at `offset` (0..1) into the
 * interval. The interval divides a minute, or an hour in whole minutes (the config says so).
 */
export function cronExpression(intervalS: number, offset: number): string {
  const shift = Math.min(Math.floor(offset * intervalS), intervalS - 1);
  if (intervalS <= 60) return `${steps(shift, intervalS, 60)} * * * * *`;
  const minutes = intervalS / 60;
  return `${shift % 60} ${steps(Math.floor(shift / 60), minutes, 60)} * * * *`;
}

function steps(start: number, step: number, limit: number): string {
  const list: number[] = [];
  for (let v = start; v < limit; v += step) list.push(v);
  return list.join(',');
}

function cronLogger(logger: Logger) {
  return {
    info: (message: string) => logger.debug({ source: 'node-cron' }, message),
    warn: (message: string) => logger.debug({ source: 'node-cron' }, message),
    error: (message: string | Error) =>
      logger.warn({ source: 'node-cron', err: message }, 'scheduler error'),
    debug: () => undefined,
  };
}
