import * as M from '../metrics.js';
import { bucket, count, promql } from '../promql.js';
import { REPLICA_SLI, SLO_ALERTS } from './slo.js';
import {
  instantQuery,
  query,
  stat,
  thresholds,
  timeseries,
  type PanelContext,
} from '../../../dashboards/src/common.js';

const budget = (slo: 'availability' | 'ttft') => `scalar(slo:error_budget:ratio{slo="${slo}"})`;

/**
 * The share of the picked requests that failed (or waited longer than `ttftSeconds` for their
 * first token) over `window`, per model: what the burn-rate alerts compute for every node.
 */
function errorRatio(
  slo: 'availability' | 'ttft',
  sel: string,
  window: string,
  ttftSeconds: number,
): string {
  if (slo === 'availability')
    return promql`
(
  sum by (model) (rate(${M.llm.REQUESTS}{outcome=~"error|rejected", ${sel}}[${window}]))
    or sum by (model) (rate(${M.llm.REQUESTS}{${sel}}[${window}])) * 0
)
/ sum by (model) (rate(${M.llm.REQUESTS}{${sel}}[${window}]))`;
  return promql`
(
  sum by (model) (rate(${count(M.llm.TIME_TO_FIRST_TOKEN)}{${sel}}[${window}]))
    - sum by (model) (rate(${bucket(M.llm.TIME_TO_FIRST_TOKEN)}{le="${ttftSeconds}", ${sel}}[${window}]))
)
/ sum by (model) (rate(${count(M.llm.TIME_TO_FIRST_TOKEN)}{${sel}}[${window}]))`;
}

/** The same over `window`, from the hourly per-replica records: cheap over days and weeks. */
function recordedErrorRatio(slo: 'availability' | 'ttft', sel: string, window: string): string {
  const [bad, all] =
    slo === 'availability'
      ? [REPLICA_SLI.failed, REPLICA_SLI.requests]
      : [REPLICA_SLI.ttftSlow, REPLICA_SLI.ttftCount];
  return `sum by (model) (avg_over_time(${bad}{${sel}}[${window}])) / sum by (model) (avg_over_time(${all}{${sel}}[${window}]))`;
}

/** The slo area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const SLO_PANELS = {
  availabilityBudgetLeft: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Availability budget left (30d)',
      description:
        'Share of the 30-day availability error budget the picked requests have not spent: 1 - (failed or rejected requests / all requests over 30 days) / budget, every request weighing the same (from hourly rates recorded per node, runtime, target and model).',
      unit: 'percentunit',
      width: 6,
      queries: [
        instantQuery(
          `1 - (${recordedErrorRatio('availability', p.sel.picked, '30d')}) / ${budget('availability')}`,
          '{{model}}',
        ),
      ],
      thresholds: thresholds([
        [null, 'red'],
        [0.25, 'orange'],
        [0.5, 'green'],
      ]),
      links: [p.link(SLO_ALERTS.availabilityBudgetBurn)],
    }),
  ttftBudgetLeft: (p: PanelContext<'picked'>) =>
    stat({
      title: `TTFT budget left (30d)`,
      description: `Share of the 30-day budget of requests slower than ${p.settings.ttftSeconds} s to the first token the picked requests have not spent, every request weighing the same.`,
      unit: 'percentunit',
      width: 6,
      queries: [
        instantQuery(
          `1 - (${recordedErrorRatio('ttft', p.sel.picked, '30d')}) / ${budget('ttft')}`,
          '{{model}}',
        ),
      ],
      thresholds: thresholds([
        [null, 'red'],
        [0.25, 'orange'],
        [0.5, 'green'],
      ]),
      links: [p.link(SLO_ALERTS.ttftBudgetBurn)],
    }),
  burnRate: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Burn rate',
      description:
        'How fast the picked requests spend each SLO’s budget (1 = exactly the budget over 30 days), over 1h and 6h, per model. The alerts watch every node together: the fast page fires above 14.4 (1h), the slower one above 6 (6h).',
      unit: 'none',
      min: 0,
      queries: (['availability', 'ttft'] as const).flatMap((slo) =>
        ['1h', '6h'].map((w) =>
          query(
            `(${errorRatio(slo, p.sel.picked, w, p.settings.ttftSeconds)}) / ${budget(slo)}`,
            `{{model}} ${slo} ${w}`,
          ),
        ),
      ),
      thresholds: thresholds([
        [null, 'green'],
        [6, 'orange'],
        [14.4, 'red'],
      ]),
      links: [p.link(SLO_ALERTS.availabilityBudgetBurn), p.link(SLO_ALERTS.ttftBudgetBurn)],
    }),
  availabilityWeekly: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Availability, week by week',
      description:
        'Share of requests that did not fail over the 7 days before each point, per model, every request weighing the same.',
      unit: 'percentunit',
      max: 1,
      queries: [
        query(`1 - (${recordedErrorRatio('availability', p.sel.picked, '7d')})`, '{{model}}'),
      ],
      links: [p.link(SLO_ALERTS.availabilityBudgetBurn)],
    }),
  ttftP95Daily: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Time to first token (p95), day by day',
      description:
        'How long 95 of 100 requests waited at most before the answer started, over the day before each point, per model.',
      unit: 's',
      min: 0,
      queries: [
        query(
          `histogram_quantile(0.95, sum by (model, le) (avg_over_time(${REPLICA_SLI.ttftBuckets}{${p.sel.picked}}[1d])))`,
          '{{model}}',
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [p.settings.ttftSeconds, 'red'],
      ]),
      links: [p.link(SLO_ALERTS.ttftBudgetBurn)],
    }),
};
