import type { Clock, TimerHandle, Timers } from './clock.js';
import { CollectorError, type Channel, type Collector, type Stage } from './collector.js';
import { BufferingEmitter } from './buffering-emitter.js';
import type { Exposition } from './exposition.js';
import type { MetricDef, Sample } from './metric.js';
import {
  COLLECTOR_DURATION,
  COLLECTOR_LAST_SUCCESS,
  COLLECTOR_SUCCESS,
  SERIES_DROPPED,
  type SourceErrors,
} from './self-metrics.js';
import type { StateLog } from './state-log.js';

interface Outcome {
  readonly ok: boolean;
  readonly reason?: string;
  readonly message?: string;
  readonly samples: ReadonlyMap<MetricDef, readonly Sample[]>;
  /** The samples are the source's last good values, read then (epoch ms). */
  readonly staleAtMs?: number;
  /** Series left out by the cardinality cap, by family. */
  readonly dropped?: ReadonlyMap<MetricDef, number>;
  /** What it reported to the stages, by channel. */
  readonly reports?: ReadonlyMap<Channel<unknown>, readonly unknown[]>;
}

/** A collector or a stage: what the scrape reports success and duration for. */
type Source = Collector | Stage;

/** After the hand-over, how long a collector has to write what it knows before it is cut off. */
export const HAND_OVER_GRACE_MS = 250;
const DEFAULT_MAX_SERIES_PER_FAMILY = 10_000;

const NO_SAMPLES: ReadonlyMap<MetricDef, readonly Sample[]> = new Map();

/**
 * Runs every collector at once, then the stages on what the collectors reported (collect, then
 * transform, as dcgm-exporter does), and publishes what each produced. No source holds the
 * scrape: after `waitMs` every collector is told to hand over what it knows (a source still
 * reading is served from its last good values, see Emitter.lastGood), and one that has not
 * returned a short grace later is cut off. A collector that throws or hangs costs only its own
 * series; one still running from an earlier scrape is not started again (it reports `busy`),
 * so a hung source cannot pile up work.
 *
 * Every family has exactly one writer, a collector or a stage: where several sources read the
 * same thing (GPU memory from nvidia-smi or DCGM), they report it to a stage, which decides
 * who speaks. The order of the lists carries no meaning.
 */
export class Scraper {
  private readonly inFlight = new Set<string>();
  /** What the last scrape left out by the cardinality cap, by collector. */
  private dropped = new Map<string, { family: string; series: number }[]>();
  private readonly lastSuccessEpochS = new Map<string, number>();
  private readonly stages: readonly Stage[];

  constructor(
    private readonly collectors: readonly Collector[],
    private readonly exposition: Exposition,
    private readonly deps: {
      clock: Clock;
      /** The hand-over's and the cut-off's timers. */
      timers: Timers;
      stateLog: StateLog;
      errors: SourceErrors;
      /** How long the scrape waits for sources before they must hand over. */
      waitMs: number;
      /** Series one collector may write to one family in a scrape; more are left out. */
      maxSeriesPerFamily?: number;
    },
    stages: readonly Stage[] = [],
  ) {
    const writer = new Map<string, string>();
    for (const source of [...collectors, ...stages]) {
      for (const def of source.metrics) {
        const other = writer.get(def.name);
        if (other !== undefined && other !== source.name)
          throw new Error(
            `${def.name} is written by both ${other} and ${source.name}: report it to a stage instead`,
          );
        writer.set(def.name, source.name);
        exposition.define(def);
      }
    }
    this.stages = inDataOrder(stages);
  }

  async scrape(): Promise<void> {
    const ran = await Promise.all(this.collectors.map((c) => this.runOne(c)));
    const reports = new Map<Channel<unknown>, unknown[]>();
    const gather = (outcome: Outcome) => {
      for (const [to, values] of outcome.reports ?? []) {
        const list = reports.get(to);
        if (list) list.push(...values);
        else reports.set(to, [...values]);
      }
    };
    for (const { outcome } of ran) gather(outcome);
    for (const stage of this.stages) {
      const merged = this.timed(stage, () => this.merge(stage, reports.get(stage.input) ?? []));
      gather(merged.outcome);
      ran.push(merged);
    }
    const success: Sample[] = [];
    const duration: Sample[] = [];
    const lastSuccess: Sample[] = [];
    const dropped: Sample[] = [];
    this.dropped = new Map();
    for (const { source, outcome, seconds } of ran) {
      const labels = { collector: source.name };
      this.exposition.publish(source.metrics, outcome.samples);
      const left = [...(outcome.dropped ?? [])].map(([def, series]) => ({
        family: def.name,
        series,
      }));
      if (left.length) this.dropped.set(source.name, left);
      for (const { family, series } of left)
        dropped.push({ labels: { ...labels, family }, value: series });
      success.push({ labels, value: outcome.ok ? 1 : 0 });
      duration.push({ labels, value: seconds });
      if (outcome.ok) this.lastSuccessEpochS.set(source.name, this.deps.clock.epochMs() / 1000);
      else if (outcome.staleAtMs !== undefined) {
        const readAt = outcome.staleAtMs / 1000;
        if (readAt > (this.lastSuccessEpochS.get(source.name) ?? 0))
          this.lastSuccessEpochS.set(source.name, readAt);
      }
      const last = this.lastSuccessEpochS.get(source.name);
      if (last !== undefined) lastSuccess.push({ labels, value: last });
    }
    this.exposition.publish(
      [COLLECTOR_SUCCESS, COLLECTOR_DURATION, COLLECTOR_LAST_SUCCESS, SERIES_DROPPED],
      new Map([
        [COLLECTOR_SUCCESS, success],
        [COLLECTOR_DURATION, duration],
        [COLLECTOR_LAST_SUCCESS, lastSuccess],
        [SERIES_DROPPED, dropped],
      ]),
    );
  }

  /** What the last scrape left out of a collector's families by the cardinality cap. */
  /** When the source last gave good values (epoch seconds), as inferwatch_collector_last_success says. */
  lastGood(name: string): number | undefined {
    return this.lastSuccessEpochS.get(name);
  }

  droppedBy(collector: string): readonly { family: string; series: number }[] {
    return this.dropped.get(collector) ?? [];
  }

  private async runOne(collector: Collector): Promise<Ran> {
    const start = this.deps.clock.monotonicMs();
    const outcome = await this.attempt(collector);
    return this.settled(collector, outcome, start);
  }

  private timed(stage: Stage, run: () => Outcome): Ran {
    const start = this.deps.clock.monotonicMs();
    return this.settled(stage, run(), start);
  }

  private settled(source: Source, outcome: Outcome, startMs: number): Ran {
    const seconds = (this.deps.clock.monotonicMs() - startMs) / 1000;
    if (outcome.ok) this.deps.stateLog.ok(source.name);
    else
      this.deps.stateLog.failing(
        source.name,
        outcome.reason ?? 'error',
        outcome.message ?? '',
        () => todoOf(source),
      );
    return { source, outcome, seconds };
  }

  private merge(stage: Stage, reports: readonly unknown[]): Outcome {
    const buffer = this.buffer(stage);
    try {
      stage.merge(reports, buffer);
      return this.outcomeOf(stage, buffer);
    } catch (error) {
      return this.thrown(stage, error);
    }
  }

  private buffer(source: Source): BufferingEmitter {
    return new BufferingEmitter(
      source.metrics,
      this.deps.maxSeriesPerFamily ?? DEFAULT_MAX_SERIES_PER_FAMILY,
    );
  }

  private async attempt(collector: Collector): Promise<Outcome> {
    if (this.inFlight.has(collector.name)) {
      this.deps.errors.count(collector.name, 'busy');
      return failed('busy', 'the previous collection is still running', NO_SAMPLES);
    }
    const buffer = this.buffer(collector);
    const handOver = new AbortController();
    this.inFlight.add(collector.name);
    const run = Promise.resolve()
      .then(() => collector.collect(buffer, handOver.signal))
      .finally(() => this.inFlight.delete(collector.name));
    const { timers } = this.deps;
    const softTimer = timers.setTimeout(() => handOver.abort(), this.deps.waitMs);
    let timer: TimerHandle | undefined;
    const cutOffMs = this.deps.waitMs + HAND_OVER_GRACE_MS;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = timers.setTimeout(() => resolve('timeout'), cutOffMs);
    });
    try {
      const result = await Promise.race([run, timeout]);
      if (result === 'timeout') {
        handOver.abort();
        run.catch(() => undefined);
        this.deps.errors.count(collector.name, 'timeout');
        return failed('timeout', `did not hand over within ${cutOffMs} ms`, NO_SAMPLES);
      }
      return this.outcomeOf(collector, buffer);
    } catch (error) {
      return this.thrown(collector, error);
    } finally {
      if (timer) timers.clearTimeout(timer);
      timers.clearTimeout(softTimer);
    }
  }

  /** What a run that returned wrote: every source gets the same guard against impossible values. */
  private outcomeOf(source: Source, buffer: BufferingEmitter): Outcome {
    if (buffer.rejected > 0) this.deps.errors.count(source.name, 'bad_value', buffer.rejected);
    const { dropped, reports, samples } = buffer;
    if (buffer.staleness)
      return {
        ...failed(buffer.staleness.reason, buffer.staleness.message, samples),
        staleAtMs: buffer.staleness.readAtEpochMs,
        dropped,
        reports,
      };
    if (buffer.degraded)
      return {
        ...failed(buffer.degraded.reason, buffer.degraded.message, samples),
        dropped,
        reports,
      };
    return { ok: true, samples, dropped, reports };
  }

  private thrown(source: Source, error: unknown): Outcome {
    if (error instanceof CollectorError) {
      if (!error.counted) this.deps.errors.count(source.name, error.reason);
      return failed(error.reason, error.message, NO_SAMPLES);
    }
    this.deps.errors.count(source.name, 'error');
    return failed('error', `unexpected error: ${describe(error)}`, NO_SAMPLES);
  }
}

interface Ran {
  readonly source: Source;
  readonly outcome: Outcome;
  readonly seconds: number;
}

/** The stages, each after every stage that reports on its input; a loop is a wiring error. */
function inDataOrder(stages: readonly Stage[]): Stage[] {
  const ordered: Stage[] = [];
  const left = new Set(stages);
  while (left.size) {
    const ready = [...left].find(
      (s) => ![...left].some((o) => o !== s && o.output?.includes(s.input)),
    );
    if (!ready)
      throw new Error(`the stages ${[...left].map((s) => s.name).join(', ')} feed each other`);
    ordered.push(ready);
    left.delete(ready);
  }
  return ordered;
}

function failed(
  reason: string,
  message: string,
  samples: ReadonlyMap<MetricDef, readonly Sample[]>,
): Outcome {
  return { ok: false, reason, message, samples };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the source says to do about its state, or what holds for any source. */
function todoOf(source: { status(): { readonly todo?: string } }): string {
  let todo: string | undefined;
  try {
    todo = source.status().todo;
  } catch {
    // A source whose status throws says nothing; the rest holds for it too.
  }
  return todo ?? 'inferwatch doctor says more about it; the other sources are served meanwhile';
}
