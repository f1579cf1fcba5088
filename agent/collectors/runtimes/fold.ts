import type { HistogramValue, Labels, MetricDef, Sample } from '../../core/metric.js';
import { addHistograms } from './buckets.js';
import type { RawSample } from './reading.js';
import { labelKey } from './view.js';

type Total = number | HistogramValue;

/**
 * Folds one target's raw figures into one series per model, and keeps its counters monotone:
 * each source series' increase is added to the exported total, and a source series that went
 * down (the runtime restarted, one engine of several restarted) counts from its new value. So
 * a runtime restart never makes a negative rate, and the exported counter carries on through it
 * and through a change of metric names (vLLM V0 to V1).
 */
export class TargetFolder {
  private readonly last = new Map<string, Total>();
  private readonly totals = new Map<string, { def: MetricDef; labels: Labels; total: Total }>();

  fold(samples: readonly RawSample[]): Map<MetricDef, Sample[]> {
    const out = new Map<MetricDef, Sample[]>();
    const push = (def: MetricDef, sample: Sample) => {
      let list = out.get(def);
      if (!list) out.set(def, (list = []));
      list.push(sample);
    };
    const gauges = new Map<
      string,
      { def: MetricDef; labels: Labels; sum: number; n: number; mean: boolean }
    >();
    const seen = new Set<string>();
    const touched = new Set<string>();
    for (const raw of samples) {
      const outKey = `${raw.def.name}\u0001${labelKey(raw.labels)}`;
      if (raw.kind === 'gauge') {
        const g = gauges.get(outKey);
        if (g) {
          g.sum += raw.value;
          g.n++;
        } else
          gauges.set(outKey, {
            def: raw.def,
            labels: raw.labels,
            sum: raw.value,
            n: 1,
            mean: raw.fold === 'mean',
          });
        continue;
      }
      const sourceKey = `${raw.key}\u0001${labelKey(raw.labels)}`;
      if (seen.has(sourceKey)) continue; // the same source series twice is still one
      seen.add(sourceKey);
      const previous = this.last.get(sourceKey);
      this.last.set(sourceKey, raw.value);
      const increase = increaseOf(previous, raw.value);
      const entry = this.totals.get(outKey);
      if (!entry) this.totals.set(outKey, { def: raw.def, labels: raw.labels, total: increase });
      else entry.total = add(entry.total, increase);
      touched.add(outKey);
    }
    for (const key of this.last.keys()) if (!seen.has(key)) this.last.delete(key);
    for (const [key, entry] of this.totals) {
      if (!touched.has(key)) {
        this.totals.delete(key);
        continue;
      }
      if (typeof entry.total === 'number')
        push(entry.def, { labels: entry.labels, value: entry.total });
      else
        push(entry.def, { labels: entry.labels, value: entry.total.count, histogram: entry.total });
    }
    for (const g of gauges.values())
      push(g.def, { labels: g.labels, value: g.mean ? g.sum / g.n : g.sum });
    return out;
  }
}

function increaseOf(previous: Total | undefined, current: Total): Total {
  if (previous === undefined) return current;
  if (typeof current === 'number' && typeof previous === 'number')
    return current >= previous ? current - previous : current;
  if (typeof current === 'number' || typeof previous === 'number') return current;
  const reset =
    current.count < previous.count ||
    current.counts.length !== previous.counts.length ||
    current.counts.some((c, i) => c < (previous.counts[i] as number));
  if (reset) return current;
  return {
    counts: current.counts.map((c, i) => c - (previous.counts[i] as number)),
    // A histogram's sum may fall (negative observations); it is kept as the source moves it.
    sum: current.sum - previous.sum,
    count: current.count - previous.count,
  };
}

function add(a: Total, b: Total): Total {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a !== 'number' && typeof b !== 'number') return addHistograms(a, b);
  return b;
}
