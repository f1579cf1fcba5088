import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SetHistogram } from './histogram-instrument.js';
import type { MetricDef, Sample } from './metric.js';

type Instrument = Gauge<string> | Counter<string> | SetHistogram;

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * prom-client owns the text format. Collectors hand over fresh samples each scrape; a series
 * missing from them is removed at once, so a GPU, a path or a process that went away stops
 * being exported (the Prometheus guide's point about label values that disappear). Series are
 * updated in place rather than rebuilt, which keeps a scrape's garbage, and its p99, down.
 */
export class Exposition {
  readonly registry = new Registry();
  private readonly instruments = new Map<MetricDef, Instrument>();
  private readonly published = new Map<MetricDef, Map<string, Sample>>();

  constructor(options: { processMetrics: boolean }) {
    if (options.processMetrics) {
      // The event-loop-lag monitor samples at this period: prom-client's 10 ms default costs
      // more CPU than all of the agent's own work (0.44 s a minute, measured).
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
      // Gauges named like counters: `promtool check metrics` rejects them; the per-type
      // nodejs_active_handles and nodejs_active_requests carry the same figures.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
  }

  define(def: MetricDef): void {
    if (this.instruments.has(def)) return;
    const config = {
      name: def.name,
      help: def.help,
      labelNames: [...def.labelNames],
      registers: [this.registry],
    };
    if (def.type === 'histogram') {
      this.instruments.set(def, new SetHistogram(def, this.registry));
      return;
    }
    const instrument = def.type === 'counter' ? new Counter(config) : new Gauge(config);
    clear(instrument, def);
    this.instruments.set(def, instrument);
  }

  /** Replaces every series of the given families with `samples` (missing families: no series). */
  publish(defs: readonly MetricDef[], samples: ReadonlyMap<MetricDef, readonly Sample[]>): void {
    for (const def of defs) {
      const instrument = this.instrument(def);
      const previous = this.published.get(def) ?? new Map<string, Sample>();
      const next = new Map<string, Sample>();
      for (const sample of samples.get(def) ?? []) {
        const key = seriesKey(def, sample);
        const before = previous.get(key) ?? next.get(key);
        if (instrument instanceof SetHistogram) {
          instrument.set(key, sample);
        } else if (instrument instanceof Counter) {
          // Counters mirror a source's total: set exactly (remove, then add it whole), never by
          // adding a float difference that would drift.
          if (before?.value !== sample.value) {
            if (before) instrument.remove(before.labels);
            instrument.inc(sample.labels, sample.value);
          }
        } else {
          instrument.set(sample.labels, sample.value);
        }
        next.set(key, sample);
      }
      for (const [key, sample] of previous) {
        if (next.has(key)) continue;
        if (instrument instanceof SetHistogram) instrument.delete(key);
        else instrument.remove(sample.labels);
      }
      this.published.set(def, next);
    }
  }

  instrument(def: MetricDef): Instrument {
    const instrument = this.instruments.get(def);
    if (!instrument) throw new Error(`metric ${def.name} was never defined`);
    return instrument;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** One series' identity within its family: its label values in the family's order. */
export function seriesKey(def: MetricDef, sample: Sample): string {
  let key = '';
  for (const name of def.labelNames) key += `${sample.labels[name] ?? ''}\u0000`;
  return key;
}

function clear(instrument: Gauge<string> | Counter<string>, def: MetricDef): void {
  instrument.reset();
  // prom-client keeps a 0 for a label-less family after reset; "no data" must mean no series.
  if (def.labelNames.length === 0) instrument.remove({});
}
