import type { CollectorFactory } from '../shared/collector-factory.js';
import { EvalCollector } from './collector.js';
import { EVAL_METRICS } from './metrics.js';

export const evaluation: CollectorFactory = {
  name: 'evaluation',
  metrics: EVAL_METRICS,
  create(config, deps) {
    return config.evaluation.enabled ? [new EvalCollector(config, deps)] : [];
  },
};
