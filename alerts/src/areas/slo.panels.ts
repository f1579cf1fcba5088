import { SLO_ALERTS } from './slo.js';
import {
  query,
  stat,
  thresholds,
  timeseries,
  type PanelContext,
} from '../../../dashboards/src/common.js';

/** The slo area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const SLO_PANELS = {
  availabilityBudgetLeft: (p: PanelContext<'model'>) =>
    stat({
      title: 'Availability budget left (30d, approx.)',
      description:
        'Share of the 30-day availability error budget not yet spent: 1 - (mean hourly error ratio over 30 days / budget). Hours weigh the same whatever their traffic, so it is an approximation.',
      unit: 'percentunit',
      width: 6,
      queries: [
        query(
          `1 - avg_over_time(slo:sli_error:ratio_rate1h{slo="availability", ${p.sel.model}}[30d]) / on (slo) group_left () slo:error_budget:ratio{slo="availability"}`,
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
  ttftBudgetLeft: (p: PanelContext<'model'>) =>
    stat({
      title: `TTFT budget left (30d, approx.)`,
      description: `Share of the 30-day budget of requests slower than ${p.settings.ttftSeconds} s to the first token not yet spent (hourly ratios averaged).`,
      unit: 'percentunit',
      width: 6,
      queries: [
        query(
          `1 - avg_over_time(slo:sli_error:ratio_rate1h{slo="ttft", ${p.sel.model}}[30d]) / on (slo) group_left () slo:error_budget:ratio{slo="ttft"}`,
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
  burnRate: (p: PanelContext<'model'>) =>
    timeseries({
      title: 'Burn rate',
      description:
        'How fast each SLO spends its budget (1 = exactly the budget over 30 days), over 1h and 6h. The fast page fires above 14.4 (1h), the slower one above 6 (6h).',
      unit: 'none',
      min: 0,
      queries: [
        query(
          `slo:sli_error:ratio_rate1h{${p.sel.model}} / on (slo) group_left () slo:error_budget:ratio`,
          '{{model}} {{slo}} 1h',
        ),
        query(
          `slo:sli_error:ratio_rate6h{${p.sel.model}} / on (slo) group_left () slo:error_budget:ratio`,
          '{{model}} {{slo}} 6h',
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [6, 'orange'],
        [14.4, 'red'],
      ]),
      links: [p.link(SLO_ALERTS.availabilityBudgetBurn), p.link(SLO_ALERTS.ttftBudgetBurn)],
    }),
  availabilityWeekly: (p: PanelContext) =>
    timeseries({
      title: 'Availability, week by week',
      description:
        'Share of requests that did not fail, averaged over the 7 days before each point, per model.',
      unit: 'percentunit',
      max: 1,
      queries: [
        query('1 - avg_over_time(slo:sli_error:ratio_rate1h{slo="availability"}[7d])', '{{model}}'),
      ],
      links: [p.link(SLO_ALERTS.availabilityBudgetBurn)],
    }),
  ttftP95Daily: (p: PanelContext) =>
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
        [p.settings.ttftSeconds, 'red'],
      ]),
      links: [p.link(SLO_ALERTS.ttftBudgetBurn)],
    }),
};
