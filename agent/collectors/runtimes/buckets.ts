import type { HistogramValue } from '../../core/metric.js';
import type { SourceHistogram } from './view.js';

/**
 * Canonical bucket edges, one set per concept, so `sum by (le)` across runtimes and versions
 * is right. Each is a superset of vLLM V1's set for the
 * concept and of the OpenTelemetry GenAI recommendation.
 */
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  160, 640, 2560,
] as const;

/** vLLM's ITL set with SGLang's sub-10 ms edges. */
export const INTER_TOKEN_BUCKETS = [
  0.002, 0.004, 0.006, 0.008, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5,
  5, 7.5, 10, 20, 40, 80,
] as const;

/** vLLM's request set with the OpenTelemetry request-duration edges below it. */
export const REQUEST_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120,
  240, 480, 960, 1920, 7680,
] as const;

/**
 * Token counts per request (prompt and output lengths): the 1-2-5 series vLLM builds up to the
 * model's context length, carried on to ten million, so any context length's edges are ours.
 */
export const TOKEN_COUNT_BUCKETS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000,
  500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
] as const;

export interface Rebucketed {
  readonly value: HistogramValue;
  /** True when every canonical edge is also a source edge: no count was moved. */
  readonly exact: boolean;
}

/**
 * Moves a source histogram onto canonical edges. The count at a canonical edge is the source's
 * cumulative count at its largest edge at or below it: exact where the edges coincide, and
 * otherwise an under-count below the edge, the safe side for "share under the SLO" alerts.
 * `_sum` and `_count` are kept. `scale` converts the source unit to seconds first.
 */
export function rebucket(
  source: SourceHistogram,
  canonical: readonly number[],
  scale = 1,
): Rebucketed {
  const edges = source.buckets.map((b) => b.le * scale);
  const counts: number[] = [];
  let exact = true;
  let j = -1; // index of the largest source edge <= the canonical edge
  for (const edge of canonical) {
    while (j + 1 < edges.length && lessOrEqual(edges[j + 1] as number, edge)) j++;
    if (j === -1 || !same(edges[j] as number, edge)) exact = false;
    // Cumulative counts never fall; a source that lies about it is clamped, not believed.
    const count =
      j === -1 ? 0 : Math.min((source.buckets[j] as { count: number }).count, source.count);
    counts.push(Math.max(count, counts.at(-1) ?? 0));
  }
  return { value: { counts, sum: source.sum * scale, count: source.count }, exact };
}

function same(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function lessOrEqual(a: number, b: number): boolean {
  return a < b || same(a, b);
}

/** Bucket-wise sum, for folding engines and ranks. */
export function addHistograms(a: HistogramValue, b: HistogramValue): HistogramValue {
  return {
    counts: a.counts.map((c, i) => c + (b.counts[i] as number)),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}
