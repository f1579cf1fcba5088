import { TargetFolder } from '../../agent/collectors/runtimes/fold.js';
import type { Reading } from '../../agent/collectors/runtimes/reading.js';
import type { MetricDef, Sample } from '../../agent/core/metric.js';
import { parseExposition, type ParsedExposition } from '../../agent/core/prom-text.js';
import { readFixture } from './fixtures.js';

export function exposition(file: string): ParsedExposition {
  return parseExposition(readFixture('runtimes', file));
}

/** Exposition text written in a test, parsed as a runtime's would be. */
export function expositionOf(text: string): ParsedExposition {
  return parseExposition(`${text}\n`);
}

/** One read folded into exported series, as the collector would export them. */
export class Folded {
  readonly series: Map<MetricDef, Sample[]>;

  constructor(
    readonly reading: Reading,
    folder = new TargetFolder(),
  ) {
    this.series = folder.fold(reading.samples);
  }

  all(def: MetricDef): Sample[] {
    return this.series.get(def) ?? [];
  }

  /** The one series of `def` whose labels include `labels`; throws when not exactly one. */
  one(def: MetricDef, labels: Record<string, string> = {}): Sample {
    const found = this.all(def).filter((s) =>
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    if (found.length !== 1)
      throw new Error(`${def.name} ${JSON.stringify(labels)}: ${found.length} series`);
    return found[0] as Sample;
  }

  value(def: MetricDef, labels: Record<string, string> = {}): number {
    return this.one(def, labels).value;
  }

  source(concept: string): string {
    const c = this.reading.concepts.get(concept as never);
    return c ? `${c.source}${c.approx ? ' approx' : ''}` : 'none';
  }
}
