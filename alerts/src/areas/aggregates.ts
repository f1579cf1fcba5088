import { gpu, llm } from '../metrics.js';
import { promql } from '../promql.js';
import type { MetricDef } from '../../../agent/core/metric.js';
import type { Area, RecordRule, RuleGroup } from '../rule.js';

/** The aggregates the dashboards read, named level:metric:operations. */
export const aggregatesArea: Area = {
  name: 'aggregates',
  alerts: [],
  tests: ['aggregates.test.yml'],
  groups: () => [aggregates()],
};

/** The aggregates the dashboards read, named level:metric:operations. */
function aggregates(): RuleGroup {
  const perSecond = (level: string, by: string, counter: MetricDef): RecordRule => ({
    record: `${level}:${counter.name.replace(/_total$/, '')}:rate5m`,
    expr: promql`sum by (${by}) (rate(${counter}[5m]))`,
  });
  return {
    name: 'inferwatch-aggregates.rules',
    rules: [
      perSecond('instance', 'node, instance', llm.GENERATION_TOKENS),
      {
        record: 'instance:inferwatch_gpu_utilization:avg',
        expr: promql`avg by (node, instance) (${gpu.GPU_UTILIZATION})`,
      },
      {
        record: 'instance:inferwatch_gpu_memory_used:ratio',
        expr: promql`sum by (node, instance) (${gpu.GPU_MEMORY_USED}) / sum by (node, instance) (${gpu.GPU_MEMORY_TOTAL})`,
      },
      {
        record: 'instance:inferwatch_gpu_power_draw_watts:sum',
        expr: promql`sum by (node, instance) (${gpu.GPU_POWER_DRAW})`,
      },
    ],
  };
}
