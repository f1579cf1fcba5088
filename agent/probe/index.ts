import type { CollectorFactory } from '../shared/collector-factory.js';
import { ProbeCollector } from './collector.js';
import { PROBE_METRICS } from './metrics.js';

export const probe: CollectorFactory = {
  name: 'probe',
  metrics: PROBE_METRICS,
  create(config, deps) {
    return config.probe.enabled ? [new ProbeCollector(config.probe, deps)] : [];
  },
};
