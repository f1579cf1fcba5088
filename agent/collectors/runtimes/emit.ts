import type { Emitter } from '../../core/collector.js';
import { METRICS_SOURCE, MODELS_DROPPED, RUNTIME_INFO } from './metrics.js';
import { CONCEPTS, type Concept, type ConceptSource } from './reading.js';
import type { RuntimeTarget, Served } from './target.js';

/**
 * A target's last good read, as exported: what it is (runtime, version, models), where each
 * concept comes from (itself, the agent, or the proxy for what it lacks), and its figures.
 */
export function emitServed(
  out: Emitter,
  target: RuntimeTarget,
  served: Served,
  proxied: ReadonlyMap<Concept, boolean>,
): void {
  const { reading } = served;
  const kind = target.kind;
  const version = target.facts.version ?? '';
  for (const model of reading.models.length ? reading.models : ['']) {
    out.emit(
      RUNTIME_INFO,
      {
        runtime: kind,
        runtime_version: version,
        model,
        target: target.name,
        metrics_source: reading.metricsSource,
      },
      1,
    );
  }
  for (const concept of CONCEPTS) {
    const byProxy = proxied.get(concept);
    const source: ConceptSource | undefined =
      byProxy !== undefined ? { source: 'proxy', approx: byProxy } : reading.concepts.get(concept);
    out.emit(
      METRICS_SOURCE,
      {
        runtime: kind,
        target: target.name,
        concept,
        metrics_source: source?.source ?? 'none',
        approx: String(source?.approx ?? false),
      },
      1,
    );
  }
  out.emit(MODELS_DROPPED, { runtime: kind, target: target.name }, served.dropped);
  for (const [def, list] of served.samples) {
    for (const sample of list) {
      if (sample.histogram) out.emitHistogram(def, sample.labels, sample.histogram);
      else out.emit(def, sample.labels, sample.value);
    }
  }
}
