import type { MetricDef } from '../../agent/core/metric.js';

/**
 * A PromQL expression in which every metric is its definition, written as its name: a family
 * renamed or removed in the agent breaks the build here, not a rule in production. Strings and
 * numbers (settings, label values) go in as they are.
 */
export function promql(
  strings: TemplateStringsArray,
  ...values: readonly (MetricDef | string | number)[]
): string {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    text += (typeof value === 'object' ? value.name : String(value)) + (strings[i + 1] ?? '');
  });
  return text.trim();
}

function histogramSeries(def: MetricDef, suffix: string): string {
  if (def.type !== 'histogram') throw new Error(`${def.name} is not a histogram`);
  return `${def.name}${suffix}`;
}

/** A histogram's bucket, count and sum series. */
export const bucket = (def: MetricDef): string => histogramSeries(def, '_bucket');
export const count = (def: MetricDef): string => histogramSeries(def, '_count');
export const sum = (def: MetricDef): string => histogramSeries(def, '_sum');
