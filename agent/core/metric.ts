/** A metric family a collector may emit. Declared once, so the metric reference of docs/metrics.md can be generated. */
export interface MetricDef {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly labelNames: readonly string[];
  /** Upper bounds of a histogram's buckets, ascending, without +Inf. */
  readonly buckets?: readonly number[];
}

export type Labels = Readonly<Record<string, string>>;

/** A histogram's state: cumulative counts aligned with its def's buckets, then +Inf as `count`. */
export interface HistogramValue {
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export interface Sample {
  readonly labels: Labels;
  /** For a histogram, its count. */
  readonly value: number;
  readonly histogram?: HistogramValue;
}

export function gauge(name: string, help: string, labelNames: readonly string[] = []): MetricDef {
  return Object.freeze({ name, help, type: 'gauge', labelNames: Object.freeze([...labelNames]) });
}

export function counter(name: string, help: string, labelNames: readonly string[] = []): MetricDef {
  if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
  return Object.freeze({ name, help, type: 'counter', labelNames: Object.freeze([...labelNames]) });
}

export function histogram(
  name: string,
  help: string,
  labelNames: readonly string[],
  buckets: readonly number[],
): MetricDef {
  for (let i = 1; i < buckets.length; i++) {
    if (!((buckets[i] as number) > (buckets[i - 1] as number)))
      throw new Error(`histogram ${name}: buckets must ascend`);
  }
  return Object.freeze({
    name,
    help,
    type: 'histogram',
    labelNames: Object.freeze([...labelNames]),
    buckets: Object.freeze([...buckets]),
  });
}
