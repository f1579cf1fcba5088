import { z } from 'zod';
import { HOURS_PER_MONTH } from '../../../agent/collectors/cost/model.js';
import type { MetricDef } from '../../../agent/core/metric.js';
import { cost, gpu, llm, probe } from '../metrics.js';
import { promql } from '../promql.js';
import { defineAlert, percent, type Area, type RecordRule } from '../rule.js';
import { ratio } from '../settings-fields.js';

/** The cost area's thresholds: `cost:` in the settings file. */
export const COST_SETTINGS = z.strictObject({
  energy_per_token_factor: z.number().gt(1),
  idle_utilization_ratio: ratio,
  idle_requests: z.number().min(0),
  above_reference_days: z.int().min(1).max(30),
});

export const COST_ALERTS = {
  energyPerTokenAnomaly: defineAlert(
    'LLMNodeEnergyPerTokenAnomaly',
    'warning',
    'cost',
    (s) =>
      `GPU energy per generated token ${s.cost.energy_per_token_factor}x the same hour last week`,
  ),
  gpusIdle: defineAlert(
    'LLMNodeGPUsIdle',
    'warning',
    'cost',
    (s) =>
      `GPUs under ${percent(s.cost.idle_utilization_ratio)} and fewer than ${s.cost.idle_requests} requests an hour, every hour`,
  ),
  spendAboveBudget: defineAlert(
    'LLMNodeSpendAboveBudget',
    'warning',
    'cost',
    () =>
      "the node's spend over the last 24 h, as a month, is above its monthly budget (cost.monthly_budget_usd), for 1h",
  ),
  costAboveAPIReference: defineAlert(
    'LLMNodeCostAboveAPIReference',
    'warning',
    'cost',
    () => 'the node costs more per hour than an API would charge for the same tokens',
  ),
} as const;

/** What serving costs: per unit of work, per model, against an API's price and a budget, energy per token, idle GPUs. */
export const costArea: Area = {
  name: 'cost',
  alerts: Object.values(COST_ALERTS),
  tests: ['cost.test.yml'],
  groups: (s, { alert }) => [
    {
      name: 'inferwatch-cost',
      rules: [
        ...costRecords(),
        alert(
          COST_ALERTS.energyPerTokenAnomaly,
          `
instance:inferwatch_gpu_energy_joules_per_generated_token:ratio_rate1h
  > ${s.cost.energy_per_token_factor} * (instance:inferwatch_gpu_energy_joules_per_generated_token:ratio_rate1h offset 1w)
  and on (node, instance) instance:inferwatch_llm_served_generation_tokens:rate1h > 1`,
          {
            summary:
              'Each generated token costs far more GPU energy than in the same hour last week.',
            description: `{{ $labels.instance }} spends {{ $value | printf "%.3g" }} J per generated token, more than ${s.cost.energy_per_token_factor}x the same hour last week.`,
          },
          { for: '2h' },
        ),
        alert(
          COST_ALERTS.gpusIdle,
          promql`
avg by (node, instance) (avg_over_time(${gpu.GPU_UTILIZATION}[1h])) < ${s.cost.idle_utilization_ratio}
  and on (node, instance)
  instance:inferwatch_llm_served_requests:rate1h * 3600 < ${s.cost.idle_requests}`,
          {
            summary:
              "A node's GPUs have done almost nothing for 6 hours: money spent on idle hardware.",
            description:
              '{{ $labels.instance }} has averaged {{ $value | humanizePercentage }} GPU utilization, with almost no requests served, every hour for 6 hours.',
          },
          { for: '6h' },
        ),
        alert(
          COST_ALERTS.spendAboveBudget,
          promql`
avg_over_time(instance:inferwatch_cost_usd:rate1h[1d]) * ${HOURS_PER_MONTH}
  > on (node, instance) max by (node, instance) (${cost.COST_BUDGET})`,
          {
            summary: 'A node is spending faster than its monthly budget allows.',
            description: `{{ $labels.instance }} has spent at {{ $value | printf "%.0f" }} USD a month over the last 24 h, above its budget.`,
          },
          { for: '1h' },
        ),
        alert(
          COST_ALERTS.costAboveAPIReference,
          `
instance_reference:inferwatch_cost_api_equivalent_usd:rate1h
  < on (node, instance) group_left ()
  instance:inferwatch_cost_usd:rate1h`,
          {
            summary: `Serving these tokens locally has cost more than the API reference price for ${s.cost.above_reference_days} days.`,
            description: `{{ $labels.instance }} costs more per hour than {{ $labels.reference }} would charge for the same tokens ({{ $value | printf "%.2f" }} USD/h at the API price), for ${s.cost.above_reference_days} days.`,
          },
          { for: `${s.cost.above_reference_days}d` },
        ),
      ],
    },
  ],
};

function costRecords(): RecordRule[] {
  const served = (counter: MetricDef, selector: string, probeCounter: MetricDef) =>
    promql`
sum by (node, instance) (rate(${counter}${selector}[1h]))
  - (sum by (node, instance) (rate(${probeCounter}[1h])) or sum by (node, instance) (rate(${counter}${selector}[1h])) * 0)`;
  const perUnit = (record: string, per: string, scale: string): RecordRule => ({
    record,
    expr: `instance:inferwatch_cost_usd:rate1h / on (node, instance) (${per} * 3600) * ${scale}`,
  });
  return [
    {
      record: 'instance:inferwatch_cost_usd:rate1h',
      expr: promql`sum by (node, instance) (rate(${cost.COST_TOTAL}[1h])) * 3600`,
    },
    {
      record: 'instance:inferwatch_llm_served_requests:rate1h',
      expr: served(llm.REQUESTS, '{outcome="ok"}', probe.PROBE_REQUESTS),
    },
    {
      record: 'instance:inferwatch_llm_served_generation_tokens:rate1h',
      expr: served(llm.GENERATION_TOKENS, '', probe.PROBE_OUTPUT_TOKENS_TOTAL),
    },
    {
      record: 'instance:inferwatch_llm_served_prompt_tokens:rate1h',
      expr: served(llm.PROMPT_TOKENS, '', probe.PROBE_INPUT_TOKENS_TOTAL),
    },
    perUnit(
      'instance:inferwatch_cost_usd_per_million_generated_tokens:ratio_rate1h',
      'instance:inferwatch_llm_served_generation_tokens:rate1h',
      '1e6',
    ),
    perUnit(
      'instance:inferwatch_cost_usd_per_million_prompt_tokens:ratio_rate1h',
      'instance:inferwatch_llm_served_prompt_tokens:rate1h',
      '1e6',
    ),
    perUnit(
      'instance:inferwatch_cost_usd_per_thousand_requests:ratio_rate1h',
      'instance:inferwatch_llm_served_requests:rate1h',
      '1e3',
    ),
    {
      record: 'instance:inferwatch_cost_usd_per_task:ratio_rate1h',
      expr: promql`instance:inferwatch_cost_usd:rate1h / on (node, instance) (instance:inferwatch_llm_served_requests:rate1h * 3600 / on (node, instance) max by (node, instance) (${cost.COST_REQUESTS_PER_TASK}))`,
    },
    {
      record: 'instance:inferwatch_gpu_energy_joules_per_generated_token:ratio_rate1h',
      expr: promql`sum by (node, instance) (rate(${gpu.GPU_ENERGY}[1h])) / on (node, instance) instance:inferwatch_llm_served_generation_tokens:rate1h`,
    },
    {
      record: 'instance_reference:inferwatch_cost_api_equivalent_usd:rate1h',
      expr: promql`
(
  instance:inferwatch_llm_served_prompt_tokens:rate1h
    * on (node, instance) group_right () max by (node, instance, reference) (${cost.COST_API_REFERENCE}{direction="input"})
  + on (node, instance, reference)
  instance:inferwatch_llm_served_generation_tokens:rate1h
    * on (node, instance) group_right () max by (node, instance, reference) (${cost.COST_API_REFERENCE}{direction="output"})
) * 3600 / 1e6`.trim(),
    },
    {
      record: 'instance_reference:inferwatch_cost_savings_usd:rate1h',
      expr: 'instance_reference:inferwatch_cost_api_equivalent_usd:rate1h - on (node, instance) group_left () instance:inferwatch_cost_usd:rate1h',
    },
    // Each model's share of its node's cost, in proportion to the tokens (prompt and output)
    // it processed in the hour: the stated allocation. A node that served nothing allocates
    // nothing (its cost is idle cost, below).
    {
      record: 'instance_model:inferwatch_llm_tokens:rate1h',
      expr: promql`
sum by (node, instance, model) (rate(${llm.PROMPT_TOKENS}[1h]))
  + sum by (node, instance, model) (rate(${llm.GENERATION_TOKENS}[1h]))`.trim(),
    },
    {
      record: 'instance_model:inferwatch_cost_usd:rate1h',
      expr: `
instance:inferwatch_cost_usd:rate1h
  * on (node, instance) group_right ()
  (
    instance_model:inferwatch_llm_tokens:rate1h
      / on (node, instance) group_left ()
      (sum by (node, instance) (instance_model:inferwatch_llm_tokens:rate1h) > 0)
  )`.trim(),
    },
    {
      record: 'instance:inferwatch_cost_idle_usd:rate1h',
      expr: 'instance:inferwatch_cost_usd:rate1h and on (node, instance) instance:inferwatch_llm_served_requests:rate1h * 3600 < 1',
    },
  ];
}
