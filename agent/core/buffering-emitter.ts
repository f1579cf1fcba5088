import type { Channel, Emitter } from './collector.js';
import type { HistogramValue, Labels, MetricDef, Sample } from './metric.js';

/**
 * Holds one run's samples until the run is known to have finished in time. A family holds at
 * most `maxSeries` series of one collector: a source that names thousands of processes or
 * models costs a bounded exposition, and says how many it lost.
 */
export class BufferingEmitter implements Emitter {
  readonly samples = new Map<MetricDef, Sample[]>();
  readonly dropped = new Map<MetricDef, number>();
  readonly reports = new Map<Channel<unknown>, unknown[]>();
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

  report<T>(to: Channel<T>, value: T): void {
    const list = this.reports.get(to);
    if (list) list.push(value);
    else this.reports.set(to, [value]);
  }

  lastGood(readAtEpochMs: number, reason: string, message: string): void {
    // The oldest read decides how old the collector's data is.
    if (this.staleness === undefined || readAtEpochMs < this.staleness.readAtEpochMs)
      this.staleness = { readAtEpochMs, reason, message };
  }
}
