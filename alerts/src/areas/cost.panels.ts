import * as M from '../metrics.js';
import { promql } from '../promql.js';
import { COST_ALERTS } from './cost.js';
import { HOURS_PER_MONTH } from '../../../agent/collectors/cost/model.js';
import {
  instantQuery,
  query,
  stat,
  table,
  tableColumns,
  tableQuery,
  thresholds,
  timeseries,
  type PanelContext,
} from '../../../dashboards/src/common.js';

/**
 * A per-hour rate sampled every $__interval, summed, times the hours each sample stands for:
 * the amount over the range. (A 1h subquery step would show nothing until an hour boundary
 * had passed with data.)
 */
const HOURS_PER_STEP = '$__interval_ms / 3600000';
const spent = (sel: string) => promql`sum(increase(${M.cost.COST_TOTAL}{${sel}}[$__range]))`;
/** Requests users made in the range: completed ones, less the probe's own. */
const served = (sel: string) =>
  promql`(sum(increase(${M.llm.REQUESTS}{outcome="ok", ${sel}}[$__range])) - (sum(increase(${M.probe.PROBE_REQUESTS}{${sel}}[$__range])) or vector(0)))`;
const tokens = (sel: string) =>
  promql`(sum(increase(${M.llm.GENERATION_TOKENS}{${sel}}[$__range])) - (sum(increase(${M.probe.PROBE_OUTPUT_TOKENS_TOTAL}{${sel}}[$__range])) or vector(0)))`;
const perTask = (sel: string) => promql`max(${M.cost.COST_REQUESTS_PER_TASK}{${sel}})`;

/** The cost area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const COST_PANELS = {
  costPerTask: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Cost per task',
      description:
        'Everything the nodes cost in the time range (hardware spread over its life, running costs, electricity) divided by the tasks users completed. A task is one request unless configured otherwise; our own test traffic is not counted.',
      unit: 'currencyUSD',
      width: 6,
      queries: [
        query(`${spent(p.sel.picked)} / (${served(p.sel.picked)} / ${perTask(p.sel.picked)})`),
      ],
    }),
  costPerMillionTokens: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Cost per million generated tokens',
      description:
        'Everything the nodes cost in the time range, divided by the millions of tokens the models wrote for users.',
      unit: 'currencyUSD',
      width: 6,
      queries: [query(`${spent(p.sel.picked)} / ${tokens(p.sel.picked)} * 1e6`)],
    }),
  apiPricePerMillionTokens: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Cloud API price per million output tokens',
      description:
        'What each cloud API we compare against charges per million generated tokens, at its list price on the date in the agent config.',
      unit: 'currencyUSD',
      width: 6,
      queries: [
        query(
          promql`max by (reference) (${M.cost.COST_API_REFERENCE}{direction="output", ${p.sel.picked}})`,
          '{{reference}}',
        ),
      ],
    }),
  savedAgainstAPI: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Saved against the API',
      description:
        'What the cloud API would have charged for the same prompt and generated tokens in the time range, minus what serving them here cost. Negative: the API would have been cheaper.',
      unit: 'currencyUSD',
      width: 6,
      queries: [
        query(
          `sum by (reference) (sum_over_time(instance_reference:inferwatch_cost_savings_usd:rate1h{${p.sel.picked}}[$__range:$__interval])) * ${HOURS_PER_STEP}`,
          '{{reference}}',
        ),
      ],
      thresholds: thresholds([
        [null, 'red'],
        [0, 'green'],
      ]),
      links: [p.link(COST_ALERTS.costAboveAPIReference)],
    }),
  spent: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Spent',
      description: 'Everything the nodes cost in the time range, in US dollars.',
      unit: 'currencyUSD',
      width: 6,
      queries: [query(spent(p.sel.picked))],
    }),
  monthAtCurrentRate: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Month at the current rate',
      description: 'What a whole month costs if the last 24 hours’ spending rate holds.',
      unit: 'currencyUSD',
      width: 6,
      queries: [
        query(
          promql`sum(rate(${M.cost.COST_TOTAL}{${p.sel.picked}}[1d])) * 86400 * days_in_month()`,
        ),
      ],
    }),
  againstBudget: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Spending against the budget',
      description:
        'A month at the last 24 hours’ spending rate, as a share of the monthly budget of the picked nodes (cost.monthly_budget_usd in each agent’s config). Over 100 %: the month overspends.',
      unit: 'percentunit',
      width: 6,
      queries: [
        instantQuery(
          promql`sum(avg_over_time(instance:inferwatch_cost_usd:rate1h{${p.sel.picked}}[1d])) * ${HOURS_PER_MONTH} / sum(${M.cost.COST_BUDGET}{${p.sel.picked}})`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [0.9, 'orange'],
        [1, 'red'],
      ]),
      noValue: 'No budget set (cost.monthly_budget_usd)',
      links: [p.link(COST_ALERTS.spendAboveBudget)],
    }),
  tokensForUsers: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Tokens generated for users',
      description:
        'Tokens the models wrote for users in the time range (our own test traffic left out).',
      unit: 'short',
      width: 6,
      queries: [query(tokens(p.sel.picked))],
    }),
  idleCost: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Idle cost',
      description:
        'What the nodes cost during the hours they served (almost) no request: money spent on hardware doing nothing.',
      unit: 'currencyUSD',
      width: 6,
      queries: [
        query(
          `sum(sum_over_time(instance:inferwatch_cost_idle_usd:rate1h{${p.sel.picked}}[$__range:$__interval])) * ${HOURS_PER_STEP} or vector(0)`,
        ),
      ],
      links: [p.link(COST_ALERTS.gpusIdle)],
    }),
  costPerMillionTokensAgainstAPI: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Cost per million generated tokens, against the API',
      description:
        'Our cost per million generated tokens, hour by hour, beside each cloud API’s price for output tokens. Below the API lines, serving locally is cheaper.',
      unit: 'currencyUSD',
      min: 0,
      queries: [
        query(
          `sum(instance:inferwatch_cost_usd:rate1h{${p.sel.picked}}) / (sum(instance:inferwatch_llm_served_generation_tokens:rate1h{${p.sel.picked}}) * 3600) * 1e6`,
          'our cost',
        ),
        query(
          promql`max by (reference) (${M.cost.COST_API_REFERENCE}{direction="output", ${p.sel.picked}})`,
          '{{reference}} (API)',
        ),
      ],
      links: [p.link(COST_ALERTS.costAboveAPIReference)],
    }),
  costPerTaskHourByHour: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Cost per task, hour by hour',
      description:
        'What one task costs, hour by hour: everything the nodes cost in the hour over the tasks completed in it.',
      unit: 'currencyUSD',
      min: 0,
      queries: [
        query(
          `sum(instance:inferwatch_cost_usd:rate1h{${p.sel.picked}}) / (sum(instance:inferwatch_llm_served_requests:rate1h{${p.sel.picked}}) * 3600 / ${perTask(p.sel.picked)})`,
          'cost per task',
        ),
      ],
    }),
  spendingPerHour: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Spending per hour',
      description: 'What the nodes cost per hour, fixed costs and electricity together.',
      unit: 'currencyUSD',
      min: 0,
      stack: true,
      queries: [query(`instance:inferwatch_cost_usd:rate1h{${p.sel.picked}}`, '{{instance}}')],
    }),
  spendingPerHourByModel: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Spending per hour, by model',
      description:
        'What each model costs per hour: each node’s cost shared among its models by the tokens (prompt and output) each processed that hour. What a node spends while serving nothing is idle cost, and no model’s.',
      unit: 'currencyUSD',
      min: 0,
      stack: true,
      queries: [
        query(
          `sum by (model) (instance_model:inferwatch_cost_usd:rate1h{${p.sel.picked}})`,
          '{{model}}',
        ),
      ],
    }),
  spentByModelInRange: (p: PanelContext<'picked'>) =>
    table({
      title: 'Spent by model in range',
      description:
        'What each model cost over the time range, its nodes’ cost shared by tokens processed (as the panel beside), largest first.',
      unit: 'currencyUSD',
      width: 12,
      height: 8,
      queries: [
        tableQuery(
          `sort_desc(sum by (model) (avg_over_time(instance_model:inferwatch_cost_usd:rate1h{${p.sel.picked}}[$__range])) * $__range_s / 3600)`,
          'A',
        ),
      ],
      transformations: [tableColumns({ model: 'Model', Value: 'Spent' })],
    }),
  tokensGeneratedPerDay: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Tokens generated per day',
      description: 'Tokens the models write for users per day, at each hour’s pace.',
      unit: 'short',
      min: 0,
      queries: [
        query(
          `sum(instance:inferwatch_llm_served_generation_tokens:rate1h{${p.sel.picked}}) * 86400`,
          'tokens per day',
        ),
      ],
    }),
  gpuUtilization: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'GPU utilization',
      description:
        'How busy the GPUs were, on average over the selected nodes: low utilization is what makes each token expensive.',
      unit: 'percentunit',
      width: 24,
      min: 0,
      max: 1,
      queries: [
        query(`avg(instance:inferwatch_gpu_utilization:avg{${p.sel.picked}})`, 'GPU utilization'),
      ],
      links: [p.link(COST_ALERTS.gpusIdle)],
    }),
};
