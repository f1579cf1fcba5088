import type { Emitter } from '../core/collector.js';
import type { Labels, MetricDef } from '../core/metric.js';
import type { Place } from './pod.js';

/** The labels of a series that comes from a pod: empty, and so absent, outside a cluster. */
export const PLACE_LABELS = ['namespace', 'pod', 'container'] as const;

/**
 * The emitter, with the pod of each series' `target` added to its labels (kube-prometheus'
 * names) in the families that declare them, so every runtime and probe series says which pod
 * it is about.
 */
export function placedByTarget(
  out: Emitter,
  placeOf: (target: string) => Place | undefined,
): Emitter {
  const label = (def: MetricDef, labels: Labels): Labels => {
    if (!def.labelNames.includes('pod')) return labels;
    const target = labels['target'];
    const place = target === undefined ? undefined : placeOf(target);
    return place
      ? { ...labels, namespace: place.namespace, pod: place.pod, container: place.container }
      : labels;
  };
  return {
    emit: (def, labels, value) => out.emit(def, label(def, labels), value),
    emitHistogram: (def, labels, value) => out.emitHistogram(def, label(def, labels), value),
    degrade: (reason, message) => out.degrade(reason, message),
    lastGood: (at, reason, message) => out.lastGood(at, reason, message),
    report: (to, value) => out.report(to, value),
  };
}
