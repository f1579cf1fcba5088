import type { Emitter } from '../../core/collector.js';
import { proxyConcepts, type TrafficLedger } from '../../proxy/ledger.js';
import { modelName } from '../../shared/model-name.js';
import type { ProxiedTarget } from './collector.js';
import { lacks } from './describe.js';
import type { Concept } from './reading.js';
import type { RuntimeTarget } from './target.js';

/**
 * The metering proxy's figures for the concepts the runtime does not report itself (by its
 * last read; all of them before any read): nothing is counted twice. Returns the concepts
 * filled.
 */
export function emitProxied(
  out: Emitter,
  target: RuntimeTarget,
  route: ProxiedTarget | undefined,
  ledger: TrafficLedger | undefined,
): ReadonlyMap<Concept, boolean> {
  if (!route || !ledger) return new Map();
  const filled = new Map(
    [...ledger.concepts(route.maxConcurrency)].filter(([concept]) => lacks(target, concept)),
  );
  // A runtime of one model is measured under '': its series carry the name it serves.
  const served = modelName(target.facts.model);
  for (const figure of ledger.figures(route.maxConcurrency)) {
    if (!filled.has(figure.concept)) continue;
    const labels =
      figure.labels.model === '' && served ? { ...figure.labels, model: served } : figure.labels;
    if (figure.histogram) out.emitHistogram(figure.def, labels, figure.histogram);
    else out.emit(figure.def, labels, figure.value);
  }
  return filled;
}

/** What the proxy fills for a target, for doctor: the concepts its runtime lacks. */
export function proxiedConcepts(
  target: RuntimeTarget,
  route: ProxiedTarget | undefined,
): Concept[] {
  if (!route) return [];
  return [...proxyConcepts(route.maxConcurrency).keys()].filter((c) => lacks(target, c));
}
