import { counter, gauge } from '../../core/metric.js';

export const COST_HARDWARE = gauge(
  'inferwatch_cost_hardware_usd_per_hour',
  "The node's purchase spread over its amortization: (capex - residual) / (months x 730 h).",
);
export const COST_OPERATIONS = gauge(
  'inferwatch_cost_operations_usd_per_hour',
  'Monthly running costs per hour (/ 730 h), by component: operations, facility, licences.',
  ['component'],
);
export const COST_ENERGY_PRICE = gauge(
  'inferwatch_cost_energy_usd_per_kwh',
  'The price of a kWh at this site, as configured.',
);
export const COST_PUE = gauge(
  'inferwatch_cost_pue',
  'Power usage effectiveness the energy cost is multiplied by, as configured.',
);
export const COST_REQUESTS_PER_TASK = gauge(
  'inferwatch_cost_requests_per_task',
  'Requests one task takes, as configured, for cost per task.',
);
export const COST_API_REFERENCE = gauge(
  'inferwatch_cost_api_reference_usd_per_million_tokens',
  'A cloud API price to compare against, per million tokens, by direction (input, output).',
  ['reference', 'direction'],
);
export const COST_API_REFERENCE_INFO = gauge(
  'inferwatch_cost_api_reference_info',
  'When each API reference price was read (as_of).',
  ['reference', 'as_of'],
);
export const COST_BUDGET = gauge(
  'inferwatch_cost_budget_usd_per_month',
  'What this node may spend a month, as configured (cost.monthly_budget_usd).',
);
export const COST_TOTAL = counter(
  'inferwatch_cost_usd_total',
  'Fully loaded cost since the agent started, in USD: fixed (hardware and running costs per hour) and energy (measured GPU energy x PUE x price).',
  ['component'],
);

export const COST_METRICS = [
  COST_HARDWARE,
  COST_OPERATIONS,
  COST_ENERGY_PRICE,
  COST_PUE,
  COST_REQUESTS_PER_TASK,
  COST_API_REFERENCE,
  COST_API_REFERENCE_INFO,
  COST_BUDGET,
  COST_TOTAL,
] as const;
