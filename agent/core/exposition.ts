import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricDef, Sample } from './metric.js';

type Instrument = Gauge<string> | Counter<string>;

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * prom-client owns the text format. Collectors hand over fresh samples each scrape; each
 * family is reset before it is filled, so a GPU, a path or a process that went away stops
 * being exported at once (the Prometheus guide's point about label values that disappear).
 */
export class Exposition {
  readonly registry = new Registry();
  private readonly instruments = new Map<MetricDef, Instrument>();

  constructor(options: { processMetrics: boolean }) {
    if (options.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
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
    const instrument = def.type === 'counter' ? new Counter(config) : new Gauge(config);
    clear(instrument, def);
    this.instruments.set(def, instrument);
  }

  /** Replaces every series of the given families with `samples` (missing families: no series). */
  publish(defs: readonly MetricDef[], samples: ReadonlyMap<MetricDef, readonly Sample[]>): void {
    for (const def of defs) {
      const instrument = this.instrument(def);
      clear(instrument, def);
      for (const sample of samples.get(def) ?? []) {
        if (instrument instanceof Counter) instrument.inc(sample.labels, sample.value);
        else instrument.set(sample.labels, sample.value);
      }
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

function clear(instrument: Instrument, def: MetricDef): void {
  instrument.reset();
  // prom-client keeps a 0 for a label-less family after reset; "no data" must mean no series.
  if (def.labelNames.length === 0) instrument.remove({});
}
