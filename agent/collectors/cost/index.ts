import type { CollectorFactory } from '../../shared/collector-factory.js';
import { CostStage } from './stage.js';
import { COST_METRICS } from './metrics.js';
import { costModel, hasCost } from './model.js';

export const cost: CollectorFactory = {
  name: 'cost',
  metrics: COST_METRICS,
  create(config, deps) {
    const model = costModel(config.cost);
    return hasCost(model) ? [new CostStage(model, deps)] : [];
  },
};
