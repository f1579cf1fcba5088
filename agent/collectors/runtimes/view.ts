import {
  metricKey,
  type ParsedExposition,
  type ParsedFamily,
  type ParsedSample,
} from '../../core/prom-text.js';

export interface SourceHistogram {
  /** The series' labels without `le`. */
  readonly labels: Readonly<Record<string, string>>;
  /** Cumulative counts by upper bound, ascending; +Inf is `count`. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly sum: number;
  readonly count: number;
}

/**
 * An adapter's view of one exposition: families looked up by any of their names (newest first),
 * with or without the `:` a pipeline may have rewritten, counters with or without `_total`.
 */
export class MetricsView {
  constructor(readonly exposition: ParsedExposition) {}

  /** The first of `names` the runtime declares, even with no samples yet. */
  family(...names: string[]): ParsedFamily | undefined {
    for (const name of names) {
      const family = this.exposition.families.get(metricKey(name));
      if (family) return family;
    }
    return undefined;
  }

  /** Every value a label takes anywhere in the exposition (the models a runtime serves). */
  labelValues(label: string): Set<string> {
    const values = new Set<string>();
    for (const family of this.exposition.families.values())
      for (const s of family.samples) {
        const value = s.labels[label];
        if (value !== undefined && value !== '') values.add(value);
      }
    return values;
  }

  has(...names: string[]): boolean {
    return this.family(...names) !== undefined;
  }

  /** A gauge's samples (any family type: runtimes mistype). */
  gauge(
    ...names: string[]
  ): { family: ParsedFamily; samples: readonly ParsedSample[] } | undefined {
    const family = this.family(...names);
    if (!family) return undefined;
    return { family, samples: family.samples.filter((s) => s.name === family.name) };
  }

  /**
   * A counter's samples by its base name: `x_total` (prometheus_client), `x` with `x_total`
   * samples (OpenMetrics), or a bare `x` (TGI, Triton: the Rust and C++ clients add no suffix).
   */
  counter(
    ...bases: string[]
  ): { family: ParsedFamily; samples: readonly ParsedSample[] } | undefined {
    for (const base of bases) {
      const key = metricKey(base);
      const family =
        this.exposition.families.get(`${key}_total`) ?? this.exposition.families.get(key);
      if (!family) continue;
      const samples = family.samples.filter(
        (s) => s.name === family.name || s.name === `${family.name}_total`,
      );
      return { family, samples };
    }
    return undefined;
  }

  /** A histogram's series, grouped by their labels without `le`. */
  histogram(...names: string[]): { family: ParsedFamily; series: SourceHistogram[] } | undefined {
    for (const name of names) {
      const key = metricKey(name);
      const family = this.exposition.families.get(key);
      if (family?.type === 'histogram')
        return { family, series: groupHistogram(key, family.samples) };
      // Untyped: an exposition with no TYPE lines still names its parts.
      const buckets = this.exposition.families.get(`${key}_bucket`);
      if (buckets) {
        const parts = [
          ...buckets.samples,
          ...(this.exposition.families.get(`${key}_sum`)?.samples ?? []),
          ...(this.exposition.families.get(`${key}_count`)?.samples ?? []),
        ];
        return { family: buckets, series: groupHistogram(key, parts) };
      }
    }
    return undefined;
  }
}

function groupHistogram(name: string, samples: readonly ParsedSample[]): SourceHistogram[] {
  const groups = new Map<
    string,
    {
      labels: Record<string, string>;
      buckets: { le: number; count: number }[];
      sum: number;
      count: number | undefined;
    }
  >();
  const group = (labels: Readonly<Record<string, string>>) => {
    let key = '';
    for (const k in labels) if (k !== 'le') key += `${k}=${labels[k]}\u0000`;
    let g = groups.get(key);
    if (!g) {
      const rest: Record<string, string> = {};
      for (const k in labels) if (k !== 'le') rest[k] = labels[k] as string;
      groups.set(key, (g = { labels: rest, buckets: [], sum: Number.NaN, count: undefined }));
    }
    return g;
  };
  for (const s of samples) {
    if (s.name === `${name}_bucket`) {
      const le = Number(s.labels.le === '+Inf' ? Infinity : s.labels.le);
      if (s.labels.le === undefined || Number.isNaN(le)) continue;
      group(s.labels).buckets.push({ le, count: s.value });
    } else if (s.name === `${name}_sum`) group(s.labels).sum = s.value;
    else if (s.name === `${name}_count`) group(s.labels).count = s.value;
  }
  const out: SourceHistogram[] = [];
  for (const g of groups.values()) {
    g.buckets.sort((a, b) => a.le - b.le);
    const inf = g.buckets.at(-1)?.le === Infinity ? g.buckets.pop() : undefined;
    const count = g.count ?? inf?.count;
    if (count === undefined) continue;
    out.push({ labels: g.labels, buckets: g.buckets, sum: g.sum, count });
  }
  return out;
}

/**
 * A label set as a map key. Exporters print one series' labels in one order every time, so
 * the order is kept as it comes, not sorted: sorting was a fifth of a read's time.
 */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const name in labels) key += `${name}=${labels[name]}\u0000`;
  return key;
}
