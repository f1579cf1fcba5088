import type { Clock } from './clock.js';
import { CollectorError, type Collector, type Emitter } from './collector.js';
import { seriesKey, type Exposition } from './exposition.js';
import type { HistogramValue, Labels, MetricDef, Sample } from './metric.js';
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
}

/** After the hand-over, how long a collector has to write what it knows before it is cut off. */
export const HAND_OVER_GRACE_MS = 250;
const DEFAULT_MAX_SERIES_PER_FAMILY = 10_000;

const NO_SAMPLES: ReadonlyMap<MetricDef, readonly Sample[]> = new Map();

/**
 * Runs every collector at once and publishes what each produced. No source holds the scrape:
 * after `waitMs` every collector is told to hand over what it knows (a source still reading
 * is served from its last good values, see Emitter.lastGood), and one that has not returned a
 * short grace later is cut off. A collector that throws or hangs costs only its own series; one
 * still running from an earlier scrape is not started again (it reports `busy`), so a hung
 * source cannot pile up work.
 *
 * A family may be shared by collectors that read the same thing from different sources (GPU
 * memory from nvidia-smi or, for a GPU nvidia-smi does not list, from DCGM). The collectors
 * agree among themselves who emits which series; here their samples are joined, and should two
 * ever emit one series, the earlier collector in the list wins, so nothing is exported twice.
 */
export class Scraper {
  private readonly inFlight = new Set<string>();
  /** What the last scrape left out by the cardinality cap, by collector. */
  private dropped = new Map<string, { family: string; series: number }[]>();
  private readonly lastSuccessEpochS = new Map<string, number>();
  private readonly shared = new Set<MetricDef>();
  /** Each collector's families that no other collector writes. */
  private readonly own = new Map<Collector, readonly MetricDef[]>();

  constructor(
    private readonly collectors: readonly Collector[],
    private readonly exposition: Exposition,
    private readonly deps: {
      clock: Clock;
      stateLog: StateLog;
      errors: SourceErrors;
      /** How long the scrape waits for sources before they must hand over. */
      waitMs: number;
      /** Series one collector may write to one family in a scrape; more are left out. */
      maxSeriesPerFamily?: number;
    },
  ) {
    const owner = new Map<string, { def: MetricDef; collector: string }>();
    for (const c of collectors) {
      for (const def of c.metrics) {
        const other = owner.get(def.name);
        if (other && other.def !== def)
          throw new Error(
            `${def.name} is declared differently by ${other.collector} and ${c.name}`,
          );
        if (other) this.shared.add(def);
        owner.set(def.name, { def, collector: c.name });
        exposition.define(def);
      }
    }
    for (const c of collectors)
      this.own.set(
        c,
        c.metrics.filter((def) => !this.shared.has(def)),
      );
  }

  async scrape(): Promise<void> {
    const results = await Promise.all(this.collectors.map((c) => this.runOne(c)));
    const success: Sample[] = [];
    const duration: Sample[] = [];
    const lastSuccess: Sample[] = [];
    const dropped: Sample[] = [];
    this.dropped = new Map();
    const joined = new Map<MetricDef, Map<string, Sample>>();
    for (const def of this.shared) joined.set(def, new Map());
    for (const { collector, outcome, seconds } of results) {
      const labels = { collector: collector.name };
      this.exposition.publish(this.own.get(collector) ?? [], outcome.samples);
      for (const [def, series] of joined) {
        for (const sample of outcome.samples.get(def) ?? []) {
          const key = seriesKey(def, sample);
          if (!series.has(key)) series.set(key, sample);
        }
      }
      const left = [...(outcome.dropped ?? [])].map(([def, series]) => ({
        family: def.name,
        series,
      }));
      if (left.length) this.dropped.set(collector.name, left);
      for (const { family, series } of left)
        dropped.push({ labels: { ...labels, family }, value: series });
      success.push({ labels, value: outcome.ok ? 1 : 0 });
      duration.push({ labels, value: seconds });
      if (outcome.ok) this.lastSuccessEpochS.set(collector.name, this.deps.clock.epochMs() / 1000);
      else if (outcome.staleAtMs !== undefined) {
        const readAt = outcome.staleAtMs / 1000;
        if (readAt > (this.lastSuccessEpochS.get(collector.name) ?? 0))
          this.lastSuccessEpochS.set(collector.name, readAt);
      }
      const last = this.lastSuccessEpochS.get(collector.name);
      if (last !== undefined) lastSuccess.push({ labels, value: last });
    }
    if (joined.size)
      this.exposition.publish(
        [...joined.keys()],
        new Map([...joined].map(([def, series]) => [def, [...series.values()]])),
      );
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
  droppedBy(collector: string): readonly { family: string; series: number }[] {
    return this.dropped.get(collector) ?? [];
  }

  private async runOne(
    collector: Collector,
  ): Promise<{ collector: Collector; outcome: Outcome; seconds: number }> {
    const start = this.deps.clock.monotonicMs();
    const outcome = await this.attempt(collector);
    const seconds = (this.deps.clock.monotonicMs() - start) / 1000;
    if (outcome.ok) this.deps.stateLog.ok(collector.name);
    else
      this.deps.stateLog.failing(collector.name, outcome.reason ?? 'error', outcome.message ?? '');
    return { collector, outcome, seconds };
  }

  private async attempt(collector: Collector): Promise<Outcome> {
    if (this.inFlight.has(collector.name)) {
      this.deps.errors.count(collector.name, 'busy');
      return failed('busy', 'the previous collection is still running', NO_SAMPLES);
    }
    const buffer = new BufferingEmitter(
      collector.metrics,
      this.deps.maxSeriesPerFamily ?? DEFAULT_MAX_SERIES_PER_FAMILY,
    );
    const handOver = new AbortController();
    this.inFlight.add(collector.name);
    const run = Promise.resolve()
      .then(() => collector.collect(buffer, handOver.signal))
      .finally(() => this.inFlight.delete(collector.name));
    const softTimer = setTimeout(() => handOver.abort(), this.deps.waitMs);
    let timer: NodeJS.Timeout | undefined;
    const cutOffMs = this.deps.waitMs + HAND_OVER_GRACE_MS;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), cutOffMs);
    });
    try {
      const result = await Promise.race([run, timeout]);
      if (result === 'timeout') {
        handOver.abort();
        run.catch(() => undefined);
        this.deps.errors.count(collector.name, 'timeout');
        return failed('timeout', `did not hand over within ${cutOffMs} ms`, NO_SAMPLES);
      }
      // Every collector gets the same guard: no non-finite value, no negative counter.
      if (buffer.rejected > 0) this.deps.errors.count(collector.name, 'bad_value', buffer.rejected);
      const dropped = buffer.dropped;
      if (buffer.staleness)
        return {
          ...failed(buffer.staleness.reason, buffer.staleness.message, buffer.samples),
          staleAtMs: buffer.staleness.readAtEpochMs,
          dropped,
        };
      if (buffer.degraded)
        return {
          ...failed(buffer.degraded.reason, buffer.degraded.message, buffer.samples),
          dropped,
        };
      return { ok: true, samples: buffer.samples, dropped };
    } catch (error) {
      if (error instanceof CollectorError) {
        if (!error.counted) this.deps.errors.count(collector.name, error.reason);
        return failed(error.reason, error.message, NO_SAMPLES);
      }
      this.deps.errors.count(collector.name, 'error');
      return failed('error', `unexpected error: ${describe(error)}`, NO_SAMPLES);
    } finally {
      clearTimeout(timer);
      clearTimeout(softTimer);
    }
  }
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

/**
 * Holds one run's samples until the run is known to have finished in time. A family holds at
 * most `maxSeries` series of one collector: a source that names thousands of processes or
 * models costs a bounded exposition, and says how many it lost.
 */
class BufferingEmitter implements Emitter {
  readonly samples = new Map<MetricDef, Sample[]>();
  readonly dropped = new Map<MetricDef, number>();
  degraded: { reason: string; message: string } | undefined;
  private readonly allowed: ReadonlySet<MetricDef>;

  constructor(
    metrics: readonly MetricDef[],
    private readonly maxSeries: number,
  ) {
    this.allowed = new Set(metrics);
  }

  /** Values no source can truly have (non-finite, a negative count), left out of this run. */
  rejected = 0;

  emit(def: MetricDef, labels: Labels, value: number): void {
    if (def.type === 'histogram') throw new Error(`${def.name} is a histogram`);
    if (!Number.isFinite(value) || (def.type === 'counter' && value < 0)) {
      this.rejected++;
      return;
    }
    const list = this.list(def);
    if (list.length >= this.maxSeries) return this.drop(def);
    list.push({ labels, value });
  }

  private drop(def: MetricDef): void {
    this.dropped.set(def, (this.dropped.get(def) ?? 0) + 1);
  }

  emitHistogram(def: MetricDef, labels: Labels, histogram: HistogramValue): void {
    if (def.type !== 'histogram' || histogram.counts.length !== def.buckets?.length)
      throw new Error(`${def.name} is not a histogram with ${histogram.counts.length} buckets`);
    const counts = [...histogram.counts, histogram.count];
    if (!Number.isFinite(histogram.sum) || counts.some((c) => !Number.isFinite(c) || c < 0)) {
      this.rejected++;
      return;
    }
    const list = this.list(def);
    if (list.length >= this.maxSeries) return this.drop(def);
    list.push({ labels, value: histogram.count, histogram });
  }

  private list(def: MetricDef): Sample[] {
    if (!this.allowed.has(def)) throw new Error(`${def.name} is not declared by this collector`);
    let list = this.samples.get(def);
    if (!list) this.samples.set(def, (list = []));
    return list;
  }

  degrade(reason: string, message: string): void {
    this.degraded ??= { reason, message };
  }

  staleness: { readAtEpochMs: number; reason: string; message: string } | undefined;

  lastGood(readAtEpochMs: number, reason: string, message: string): void {
    // The oldest read decides how old the collector's data is.
    if (this.staleness === undefined || readAtEpochMs < this.staleness.readAtEpochMs)
      this.staleness = { readAtEpochMs, reason, message };
  }
}
