import type { Channel, Emitter } from '../../agent/core/collector.js';
import type { HistogramValue, MetricDef } from '../../agent/core/metric.js';

/** An Emitter that keeps what a collector wrote, for assertions. */
export class Recorder implements Emitter {
  readonly samples: {
    def: MetricDef;
    labels: Record<string, string>;
    value: number;
    histogram?: HistogramValue;
  }[] = [];
  degraded: string | undefined;

  emit(def: MetricDef, labels: Record<string, string>, value: number): void {
    this.samples.push({ def, labels: { ...labels }, value });
  }

  emitHistogram(def: MetricDef, labels: Record<string, string>, histogram: HistogramValue): void {
    this.samples.push({ def, labels: { ...labels }, value: histogram.count, histogram });
  }

  degrade(_reason: string, message: string): void {
    this.degraded = message;
  }

  lastGoodAt: { readAtEpochMs: number; reason: string } | undefined;

  lastGood(readAtEpochMs: number, reason: string): void {
    this.lastGoodAt = { readAtEpochMs, reason };
  }

  readonly reports = new Map<Channel<unknown>, unknown[]>();

  report<T>(to: Channel<T>, value: T): void {
    this.reports.set(to, [...(this.reports.get(to) ?? []), value]);
  }

  /** What was reported on a channel. */
  reported<T>(on: Channel<T>): T[] {
    return (this.reports.get(on) ?? []) as T[];
  }

  value(def: MetricDef, labels: Record<string, string> = {}): number | undefined {
    return this.samples.find(
      (s) => s.def === def && JSON.stringify(s.labels) === JSON.stringify(labels),
    )?.value;
  }
}
