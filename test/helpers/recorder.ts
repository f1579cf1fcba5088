import type { Emitter } from '../../agent/core/collector.js';
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

  value(def: MetricDef, labels: Record<string, string> = {}): number | undefined {
    return this.samples.find(
      (s) => s.def === def && JSON.stringify(s.labels) === JSON.stringify(labels),
    )?.value;
  }
}
