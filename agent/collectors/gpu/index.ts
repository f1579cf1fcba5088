import type { MetricDef } from '../../core/metric.js';
import type { CollectorFactory } from '../../shared/collector-factory.js';
import { GPU_ENERGY, GPU_INFO, GPU_XID_ERRORS } from '../../shared/gpu-metrics.js';
import { GpuView } from './view.js';

/**
 * The GPU view's entry in the collector list, built from the readers that report to it: it
 * writes every family they feed it.
 */
export function gpuView(readers: readonly CollectorFactory[]): CollectorFactory {
  const metrics: readonly MetricDef[] = [
    ...new Set([GPU_INFO, GPU_ENERGY, GPU_XID_ERRORS, ...readers.flatMap((r) => r.feeds ?? [])]),
  ];
  return {
    name: 'gpu',
    metrics,
    create: (_config, deps) => [new GpuView(metrics, deps.durable, deps.gpuFacts)],
  };
}
