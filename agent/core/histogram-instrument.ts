import type { Registry } from 'prom-client';
import type { MetricDef, Sample } from './metric.js';

interface Rendered {
  metricName: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A histogram whose buckets are set, not observed: it mirrors a source's histogram (a runtime's
 * TTFT, re-bucketed), which prom-client's Histogram cannot hold. It renders through prom-client's
 * registry like any other family.
 */
export class SetHistogram {
  readonly type = 'histogram';
  readonly name: string;
  readonly help: string;
  private readonly series = new Map<string, Sample>();
  private readonly les: readonly string[];

  constructor(def: MetricDef, registry: Registry) {
    this.name = def.name;
    this.help = def.help;
    this.les = [...(def.buckets ?? []).map((b) => String(b)), '+Inf'];
    registry.registerMetric(this as never);
  }

  set(key: string, sample: Sample): void {
    this.series.set(key, sample);
  }

  delete(key: string): void {
    this.series.delete(key);
  }

  get(): { name: string; help: string; type: string; values: Rendered[] } {
    const values: Rendered[] = [];
    for (const { labels, histogram } of this.series.values()) {
      if (!histogram) continue;
      for (let i = 0; i < this.les.length; i++) {
        const value =
          i < histogram.counts.length ? (histogram.counts[i] as number) : histogram.count;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...labels, le: this.les[i] as string },
          value,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: histogram.sum });
      values.push({
        metricName: `${this.name}_count`,
        labels: { ...labels },
        value: histogram.count,
      });
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }
}
