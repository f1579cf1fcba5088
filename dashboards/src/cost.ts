import * as M from '../../alerts/src/metrics.js';
import { promql } from '../../alerts/src/promql.js';
import type { AlertDef } from '../../alerts/src/rule.js';
import { COST_ALERTS } from '../../alerts/src/areas/cost.js';
import { QUALITY_ALERTS } from '../../alerts/src/areas/quality.js';
import { SLO_ALERTS } from '../../alerts/src/areas/slo.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboard,
  nodeVariable,
  query,
  runbookLink,
  standardAnnotations,
  stat,
  thresholds,
  timeseries,
  UIDS,
  type DashboardSettings,
} from './common.js';

const SEL = 'instance=~"$instance"';
/**
 * A per-hour rate sampled every $__interval, summed, times the hours each sample stands for:
 * the amount over the range. (A 1h subquery step would show nothing until an hour boundary
 * had passed with data.)
 */
const HOURS_PER_STEP = '$__interval_ms / 3600000';
const SPENT = promql`sum(increase(${M.cost.COST_TOTAL}{${SEL}}[$__range]))`;
/** Requests users made in the range: completed ones, less the probe's own. */
const SERVED = promql`(sum(increase(${M.llm.REQUESTS}{outcome="ok", ${SEL}}[$__range])) - (sum(increase(${M.probe.PROBE_REQUESTS}{${SEL}}[$__range])) or vector(0)))`;
const TOKENS = promql`(sum(increase(${M.llm.GENERATION_TOKENS}{${SEL}}[$__range])) - (sum(increase(${M.probe.PROBE_OUTPUT_TOKENS_TOTAL}{${SEL}}[$__range])) or vector(0)))`;
const PER_TASK = promql`max(${M.cost.COST_REQUESTS_PER_TASK}{${SEL}})`;

/** For executives: what local inference costs per task and per token, against the API. */
export function cost(settings: DashboardSettings): DashboardBuilder {
  const link = (alert: AlertDef) => runbookLink(settings, alert);
  const b = dashboard(
    UIDS.cost,
    'inferwatch / Cost',
    'What serving models on our own GPUs costs per task and per million tokens, against what a cloud API would charge for the same tokens, with spend, service quality and idle hardware beside it. Costs come from the agents’ `cost` config (hardware, running costs, energy price) and measured GPU energy; with no `cost` config, this dashboard is empty.',
  )
    .time({ from: 'now-30d', to: 'now' })
    .withVariable(nodeVariable(M.cost.COST_TOTAL.name))
    .withRow(new RowBuilder('What it costs (over the time range)'))
    .withPanel(
      stat({
        title: 'Cost per task',
        description:
          'Everything the nodes cost in the time range (hardware spread over its life, running costs, electricity) divided by the tasks users completed. A task is one request unless configured otherwise; our own test traffic is not counted.',
        unit: 'currencyUSD',
        width: 6,
        queries: [query(`${SPENT} / (${SERVED} / ${PER_TASK})`)],
      }),
    )
    .withPanel(
      stat({
        title: 'Cost per million generated tokens',
        description:
          'Everything the nodes cost in the time range, divided by the millions of tokens the models wrote for users.',
        unit: 'currencyUSD',
        width: 6,
        queries: [query(`${SPENT} / ${TOKENS} * 1e6`)],
      }),
    )
    .withPanel(
      stat({
        title: 'Cloud API price per million output tokens',
        description:
          'What each cloud API we compare against charges per million generated tokens, at its list price on the date in the agent config.',
        unit: 'currencyUSD',
        width: 6,
        queries: [
          query(
            promql`max by (reference) (${M.cost.COST_API_REFERENCE}{direction="output"})`,
            '{{reference}}',
          ),
        ],
      }),
    )
    .withPanel(
      stat({
        title: 'Saved against the API',
        description:
          'What the cloud API would have charged for the same prompt and generated tokens in the time range, minus what serving them here cost. Negative: the API would have been cheaper.',
        unit: 'currencyUSD',
        width: 6,
        queries: [
          query(
            `sum by (reference) (sum_over_time(instance_reference:inferwatch_cost_savings_usd:rate1h{${SEL}}[$__range:$__interval])) * ${HOURS_PER_STEP}`,
            '{{reference}}',
          ),
        ],
        thresholds: thresholds([
          [null, 'red'],
          [0, 'green'],
        ]),
        links: [link(COST_ALERTS.costAboveAPIReference)],
      }),
    )
    .withPanel(
      stat({
        title: 'Spent',
        description: 'Everything the nodes cost in the time range, in US dollars.',
        unit: 'currencyUSD',
        width: 6,
        queries: [query(SPENT)],
      }),
    )
    .withPanel(
      stat({
        title: 'Month at the current rate',
        description: 'What a whole month costs if the last 24 hours’ spending rate holds.',
        unit: 'currencyUSD',
        width: 6,
        queries: [
          query(promql`sum(rate(${M.cost.COST_TOTAL}{${SEL}}[1d])) * 86400 * days_in_month()`),
        ],
      }),
    )
    .withPanel(
      stat({
        title: 'Tokens generated for users',
        description:
          'Tokens the models wrote for users in the time range (our own test traffic left out).',
        unit: 'short',
        width: 6,
        queries: [query(TOKENS)],
      }),
    )
    .withPanel(
      stat({
        title: 'Idle cost',
        description:
          'What the nodes cost during the hours they served (almost) no request: money spent on hardware doing nothing.',
        unit: 'currencyUSD',
        width: 6,
        queries: [
          query(
            `sum(sum_over_time(instance:inferwatch_cost_idle_usd:rate1h{${SEL}}[$__range:$__interval])) * ${HOURS_PER_STEP} or vector(0)`,
          ),
        ],
        links: [link(COST_ALERTS.gpusIdle)],
      }),
    )
    .withRow(new RowBuilder('Trends'))
    .withPanel(
      timeseries({
        title: 'Cost per million generated tokens, against the API',
        description:
          'Our cost per million generated tokens, hour by hour, beside each cloud API’s price for output tokens. Below the API lines, serving locally is cheaper.',
        unit: 'currencyUSD',
        min: 0,
        queries: [
          query(
            `sum(instance:inferwatch_cost_usd:rate1h{${SEL}}) / (sum(instance:inferwatch_llm_served_generation_tokens:rate1h{${SEL}}) * 3600) * 1e6`,
            'our cost',
          ),
          query(
            promql`max by (reference) (${M.cost.COST_API_REFERENCE}{direction="output"})`,
            '{{reference}} (API)',
          ),
        ],
        links: [link(COST_ALERTS.costAboveAPIReference)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Cost per task, hour by hour',
        description:
          'What one task costs, hour by hour: everything the nodes cost in the hour over the tasks completed in it.',
        unit: 'currencyUSD',
        min: 0,
        queries: [
          query(
            `sum(instance:inferwatch_cost_usd:rate1h{${SEL}}) / (sum(instance:inferwatch_llm_served_requests:rate1h{${SEL}}) * 3600 / ${PER_TASK})`,
            'cost per task',
          ),
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Spending per hour',
        description: 'What the nodes cost per hour, fixed costs and electricity together.',
        unit: 'currencyUSD',
        min: 0,
        stack: true,
        queries: [query(`instance:inferwatch_cost_usd:rate1h{${SEL}}`, '{{instance}}')],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Tokens generated per day',
        description: 'Tokens the models write for users per day, at each hour’s pace.',
        unit: 'short',
        min: 0,
        queries: [
          query(
            `sum(instance:inferwatch_llm_served_generation_tokens:rate1h{${SEL}}) * 86400`,
            'tokens per day',
          ),
        ],
      }),
    )
    .withRow(new RowBuilder('Service users got'))
    .withPanel(
      timeseries({
        title: 'Availability, week by week',
        description:
          'Share of requests that did not fail, averaged over the 7 days before each point, per model.',
        unit: 'percentunit',
        max: 1,
        queries: [
          query(
            '1 - avg_over_time(slo:sli_error:ratio_rate1h{slo="availability"}[7d])',
            '{{model}}',
          ),
        ],
        links: [link(SLO_ALERTS.availabilityBudgetBurn)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Time to first token (p95), day by day',
        description:
          'How long 95 of 100 requests waited at most before the answer started, averaged over each day, per model.',
        unit: 's',
        min: 0,
        queries: [
          query(
            'avg_over_time(model_quantile:inferwatch_llm_time_to_first_token_seconds:histogram_quantile_rate5m{quantile="0.95"}[1d])',
            '{{model}}',
          ),
        ],
        thresholds: thresholds([
          [null, 'green'],
          [settings.ttftSeconds, 'red'],
        ]),
        links: [link(SLO_ALERTS.ttftBudgetBurn)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Answer quality',
        description:
          "Share of the evaluation's questions with known answers each model got right, its worst suite on its worst node: it falls when an upgrade makes a model answer worse, however fast it still is.",
        unit: 'percentunit',
        width: 18,
        min: 0,
        max: 1,
        queries: [
          query(promql`min by (model) (${M.quality.EVAL_PASS_RATIO}{${SEL}})`, '{{model}}'),
        ],
        links: [link(QUALITY_ALERTS.qualityRegression)],
      }),
    )
    .withPanel(
      stat({
        title: 'Pages',
        description:
          'Distinct paging alerts that fired in the time range (each counted once however long it lasted).',
        unit: 'none',
        width: 6,
        queries: [
          query(
            'count(count_over_time(ALERTS{alertstate="firing", severity="critical", alertname=~"LLMNode.*"}[$__range])) or vector(0)',
          ),
        ],
        thresholds: thresholds([
          [null, 'green'],
          [1, 'orange'],
        ]),
      }),
    )
    .withPanel(
      timeseries({
        title: 'GPU utilization',
        description:
          'How busy the GPUs were, on average over the selected nodes: low utilization is what makes each token expensive.',
        unit: 'percentunit',
        width: 24,
        min: 0,
        max: 1,
        queries: [query(`avg(instance:inferwatch_gpu_utilization:avg{${SEL}})`, 'GPU utilization')],
        links: [link(COST_ALERTS.gpusIdle)],
      }),
    );
  return standardAnnotations(b, SEL);
}
