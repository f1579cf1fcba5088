import type { HistogramValue, Labels, MetricDef } from '../../core/metric.js';
import type { ParsedSample } from '../../core/prom-text.js';
import { rebucket } from './buckets.js';
import { labelKey, type SourceHistogram } from './view.js';

/** The concept families of the normalized schema, as `doctor` and the runtime table of docs/runtimes.md name them. */
export const CONCEPTS = [
  'requests_waiting',
  'requests_running',
  'max_concurrency',
  'kv_cache_usage',
  'preemptions',
  'time_to_first_token',
  'inter_token_latency',
  'request_duration',
  'request_queue',
  'request_phases',
  'request_lengths',
  'prompt_tokens',
  'generation_tokens',
  'request_outcomes',
  'prefix_cache',
  'models',
] as const;
export type Concept = (typeof CONCEPTS)[number];

/** Each concept as the runtime table of docs/runtimes.md names it. */
export const CONCEPT_TITLES: Readonly<Record<Concept, string>> = {
  requests_waiting: 'requests waiting',
  requests_running: 'requests running',
  max_concurrency: 'max concurrency',
  kv_cache_usage: 'KV-cache usage',
  preemptions: 'preemptions',
  time_to_first_token: 'time to first token',
  inter_token_latency: 'inter-token latency',
  request_duration: 'request duration',
  request_queue: 'queue time',
  request_phases: 'prefill and decode time',
  request_lengths: 'prompt and output lengths',
  prompt_tokens: 'prompt tokens',
  generation_tokens: 'generation tokens',
  request_outcomes: 'requests by outcome (finish reason)',
  prefix_cache: 'prefix-cache tokens',
  models: 'models loaded, memory',
};

/**
 * native: the runtime reports the figure; derived: the agent computes it from others; proxy:
 * the metering proxy measured it on the runtime's traffic.
 */
export type Provenance = 'native' | 'derived' | 'proxy' | 'none';

export interface ConceptSource {
  readonly source: Provenance;
  readonly approx: boolean;
}

/** One figure before engines and ranks are folded into one series per model. */
export type RawSample =
  | {
      readonly kind: 'gauge';
      readonly def: MetricDef;
      readonly labels: Labels;
      readonly value: number;
      /** How engines fold: queue lengths add up, a usage ratio is averaged. */
      readonly fold: 'sum' | 'mean';
    }
  | {
      readonly kind: 'counter';
      readonly def: MetricDef;
      readonly labels: Labels;
      /** The source series it mirrors, so a reset of that series alone is seen as one. */
      readonly key: string;
      readonly value: number;
    }
  | {
      readonly kind: 'histogram';
      readonly def: MetricDef;
      readonly labels: Labels;
      readonly key: string;
      readonly value: HistogramValue;
    };

/** What one read of a runtime gave, normalized but not yet folded. */
export interface Reading {
  readonly models: readonly string[];
  /** native: its metrics endpoint was read; derived: its API only; none: neither. */
  readonly metricsSource: Provenance;
  readonly concepts: ReadonlyMap<Concept, ConceptSource>;
  readonly samples: readonly RawSample[];
  /** Things an operator can fix (a metrics endpoint switched off), in plain words. */
  readonly notes: readonly string[];
  /** Lines of the exposition that did not parse and were left out. */
  readonly skippedLines: number;
}

interface Found {
  readonly samples: readonly ParsedSample[];
}

interface FoundHistogram {
  readonly series: readonly SourceHistogram[];
}

interface Options {
  readonly derived?: boolean;
  readonly approx?: boolean;
  /** Multiplies values into the base unit (Triton's microseconds: 1e-6). */
  readonly scale?: number;
}

/**
 * Collects an adapter's figures. Each `from*` call maps one runtime family onto one normalized
 * family and records where the concept came from; a family the runtime declares with no
 * samples yet still marks the concept (and its counters start at 0 for every model).
 */
export class ReadingBuilder {
  private readonly samples: RawSample[] = [];
  private readonly concepts = new Map<Concept, ConceptSource>();
  private readonly modelSet = new Set<string>();
  private readonly zeroed = new Map<MetricDef, readonly (Labels | undefined)[]>();
  readonly notes: string[] = [];
  metricsSource: Provenance = 'none';
  skippedLines = 0;

  constructor(
    private readonly runtime: string,
    private readonly target: string,
    /** The model a source series is about; undefined drops the series (a rank other than 0). */
    private readonly modelOf: (labels: Labels) => string | undefined,
  ) {}

  addModel(model: string): void {
    this.modelSet.add(model);
  }

  labels(model: string, extra?: Labels): Labels {
    return { runtime: this.runtime, target: this.target, model, ...extra };
  }

  mark(concept: Concept, source: Provenance, approx = false): void {
    const before = this.concepts.get(concept);
    // A concept read natively stays native when a second family adds to it.
    if (before && before.source === 'native' && source !== 'native') return;
    this.concepts.set(concept, { source, approx: (before?.approx ?? false) || approx });
  }

  gauge(
    concept: Concept,
    def: MetricDef,
    model: string,
    value: number,
    fold: 'sum' | 'mean' = 'sum',
    options: Options = {},
  ): void {
    this.markFrom(concept, options);
    this.pushGauge(def, model, value, fold);
  }

  /** A gauge with labels beyond the model's; the model is not counted as served. */
  gaugeWithLabels(def: MetricDef, model: string, value: number, extra: Labels): void {
    if (Number.isFinite(value))
      this.samples.push({
        kind: 'gauge',
        def,
        labels: this.labels(model, extra),
        value,
        fold: 'sum',
      });
  }

  fromGauge(
    concept: Concept,
    def: MetricDef,
    found: Found | undefined,
    fold: 'sum' | 'mean',
    options: Options = {},
  ): boolean {
    if (!found) return false;
    this.markFrom(concept, options);
    for (const s of found.samples) {
      const model = this.modelOf(s.labels);
      if (model !== undefined) this.pushGauge(def, model, s.value * (options.scale ?? 1), fold);
    }
    return true;
  }

  counter(
    concept: Concept,
    def: MetricDef,
    model: string,
    key: string,
    value: number,
    extra?: Labels,
    options: Options = {},
  ): void {
    this.markFrom(concept, options);
    this.pushCounter(def, model, key, value, extra);
  }

  /**
   * `extra` gives labels per source series (an outcome from a finish reason); returning
   * undefined leaves the series out.
   */
  fromCounter(
    concept: Concept,
    def: MetricDef,
    found: Found | undefined,
    options: Options & { extra?: (labels: Labels) => Labels | undefined } = {},
  ): boolean {
    if (!found) return false;
    this.markFrom(concept, options);
    if (!options.extra && !this.zeroed.has(def)) this.zeroed.set(def, [undefined]);
    for (const s of found.samples) {
      const model = this.modelOf(s.labels);
      if (model === undefined) continue;
      const extra = options.extra ? options.extra(s.labels) : undefined;
      if (options.extra && !extra) continue;
      const key = `${def.name}|${s.name}|${labelKey(s.labels)}`;
      this.pushCounter(def, model, key, s.value * (options.scale ?? 1), extra);
    }
    return true;
  }

  fromHistogram(
    concept: Concept,
    def: MetricDef,
    found: FoundHistogram | undefined,
    options: Options = {},
  ): boolean {
    if (!found) return false;
    let approx = options.approx ?? false;
    for (const source of found.series) {
      const model = this.modelOf(source.labels);
      if (model === undefined) continue;
      const { value, exact } = rebucket(source, def.buckets ?? [], options.scale ?? 1);
      approx ||= !exact;
      this.modelSet.add(model);
      this.samples.push({
        kind: 'histogram',
        def,
        labels: this.labels(model),
        key: `${def.name}|${labelKey(source.labels)}`,
        value,
      });
    }
    this.markFrom(concept, { ...options, approx });
    return true;
  }

  /**
   * Counters exist at 0 for every model from the start, so the first event is visible to
   * increase(); `extras` are the label sets to start (the outcomes a runtime reports).
   */
  startAtZero(def: MetricDef, extras: readonly (Labels | undefined)[]): void {
    this.zeroed.set(def, extras);
  }

  private markFrom(concept: Concept, options: Options): void {
    this.mark(concept, options.derived ? 'derived' : 'native', options.approx);
  }

  private pushGauge(def: MetricDef, model: string, value: number, fold: 'sum' | 'mean'): void {
    this.modelSet.add(model);
    if (Number.isFinite(value))
      this.samples.push({ kind: 'gauge', def, labels: this.labels(model), value, fold });
  }

  private pushCounter(
    def: MetricDef,
    model: string,
    key: string,
    value: number,
    extra: Labels | undefined,
  ): void {
    this.modelSet.add(model);
    if (Number.isFinite(value) && value >= 0)
      this.samples.push({ kind: 'counter', def, labels: this.labels(model, extra), key, value });
  }

  get models(): readonly string[] {
    return [...this.modelSet];
  }

  build(): Reading {
    const zeroes: RawSample[] = [];
    for (const [def, extras] of this.zeroed) {
      for (const model of this.modelSet) {
        for (const extra of extras) {
          const labels = this.labels(model, extra);
          const key = `zero|${def.name}|${labelKey(labels)}`;
          zeroes.push({ kind: 'counter', def, labels, key, value: 0 });
        }
      }
    }
    return {
      models: [...this.modelSet],
      metricsSource: this.metricsSource,
      concepts: new Map(this.concepts),
      samples: [...this.samples, ...zeroes],
      notes: [...this.notes],
      skippedLines: this.skippedLines,
    };
  }
}
