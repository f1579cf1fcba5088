import { z } from 'zod';
import { TTFT_BUCKETS } from '../../../agent/collectors/runtimes/buckets.js';
import { llm } from '../metrics.js';
import { bucket, count, promql } from '../promql.js';
import {
  defineAlert,
  pct,
  percent,
  round,
  type AlertDef,
  type Area,
  type RecordRule,
} from '../rule.js';
import { ratio } from '../settings-fields.js';

/** The SLOs: `slo:` in the settings file. */
export const SLO_SETTINGS = z.strictObject({
  availability_objective: ratio,
  ttft_objective: ratio,
  ttft_seconds: z
    .number()
    .positive()
    .refine((v) => (TTFT_BUCKETS as readonly number[]).includes(v), {
      error: `must be a bucket boundary of inferwatch_llm_time_to_first_token_seconds (${TTFT_BUCKETS.join(', ')})`,
    }),
  min_requests_per_second: z.number().min(0),
});

/** The SLO windows, shortest first, as sloth names them. */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/** Multi-window, multi-burn-rate tiers (Google SRE workbook, chapter 5). */
export const BURN_TIERS = [
  { long: '1h', short: '5m', factor: 14.4, for: '2m', severity: 'critical' },
  { long: '6h', short: '30m', factor: 6, for: '15m', severity: 'critical' },
  { long: '1d', short: '2h', factor: 3, for: '1h', severity: 'warning' },
  { long: '3d', short: '6h', factor: 1, for: '3h', severity: 'warning' },
] as const;

function burnTiers(): string {
  const tier = (t: (typeof BURN_TIERS)[number]) => `${t.factor}x (${t.long} and ${t.short})`;
  const pages = BURN_TIERS.filter((t) => t.severity === 'critical').map(tier);
  const tickets = BURN_TIERS.filter((t) => t.severity === 'warning').map(tier);
  return `${pages.join(' and ')} page, ${tickets.join(' and ')} ticket`;
}

export const SLO_ALERTS = {
  availabilityBudgetBurn: defineAlert(
    'LLMNodeAvailabilityBudgetBurn',
    'critical',
    'slo',
    (s) =>
      `failed or rejected requests burn the ${percent(s.slo.availability_objective)} budget: ${burnTiers()}; quiet under ${s.slo.min_requests_per_second} req/s`,
  ),
  ttftBudgetBurn: defineAlert(
    'LLMNodeTTFTBudgetBurn',
    'critical',
    'slo',
    (s) =>
      `requests over ${s.slo.ttft_seconds} s to the first token burn the ${percent(s.slo.ttft_objective)} budget, same tiers`,
  ),
} as const;

/** What a replica's SLIs are recorded by: the runtime dashboards narrow to any of these. */
const REPLICA = 'instance, runtime, target, model';

/**
 * The SLIs per replica (node, runtime, target, model), as hourly rates: the runtime dashboard's
 * budget and burn panels, and the executive dashboard's weekly availability, sum them over
 * whatever the pickers select, so they follow the pickers and weigh every request the same.
 */
export const REPLICA_SLI = {
  requests: 'instance_runtime_target_model:inferwatch_llm_requests:rate1h',
  failed: 'instance_runtime_target_model:inferwatch_llm_requests_failed:rate1h',
  ttftCount: 'instance_runtime_target_model:inferwatch_llm_time_to_first_token:rate1h',
  ttftSlow: 'instance_runtime_target_model:inferwatch_llm_time_to_first_token_slow:rate1h',
  /** TTFT buckets per node and model, for quantiles over days. */
  ttftBuckets: 'instance_model_le:inferwatch_llm_time_to_first_token_seconds_bucket:rate1h',
} as const;

/** The SLOs per model: availability and time to first token, their error ratios and burn rates. */
export const sloArea: Area = {
  name: 'slo',
  alerts: Object.values(SLO_ALERTS),
  tests: ['slo.test.yml'],
  groups: (s, { alert }) => {
    const budget = {
      availability: round(1 - s.slo.availability_objective),
      ttft: round(1 - s.slo.ttft_objective),
    };
    const sloRecords: RecordRule[] = SLO_WINDOWS.flatMap((w) => [
      {
        record: `slo:sli_error:ratio_rate${w}`,
        expr: promql`
(
  sum by (model) (rate(${llm.REQUESTS}{outcome=~"error|rejected"}[${w}]))
    or sum by (model) (rate(${llm.REQUESTS}[${w}])) * 0
)
/ sum by (model) (rate(${llm.REQUESTS}[${w}]))`.trim(),
        labels: { slo: 'availability' },
      },
      {
        record: `slo:sli_error:ratio_rate${w}`,
        expr: promql`
(
  sum by (model) (rate(${count(llm.TIME_TO_FIRST_TOKEN)}[${w}]))
    - sum by (model) (rate(${bucket(llm.TIME_TO_FIRST_TOKEN)}{le="${s.slo.ttft_seconds}"}[${w}]))
)
/ sum by (model) (rate(${count(llm.TIME_TO_FIRST_TOKEN)}[${w}]))`.trim(),
        labels: { slo: 'ttft' },
      },
    ]);
    const sloRules: RecordRule[] = [
      ...sloRecords,
      {
        record: 'slo:objective:ratio',
        expr: `vector(${s.slo.availability_objective})`,
        labels: { slo: 'availability' },
      },
      {
        record: 'slo:objective:ratio',
        expr: `vector(${s.slo.ttft_objective})`,
        labels: { slo: 'ttft' },
      },
      {
        record: 'slo:error_budget:ratio',
        expr: `vector(${budget.availability})`,
        labels: { slo: 'availability' },
      },
      { record: 'slo:error_budget:ratio', expr: `vector(${budget.ttft})`, labels: { slo: 'ttft' } },
      {
        record: 'model:inferwatch_llm_requests:rate1h',
        expr: promql`sum by (model) (rate(${llm.REQUESTS}[1h]))`,
      },
      {
        record: REPLICA_SLI.requests,
        expr: promql`sum by (${REPLICA}) (rate(${llm.REQUESTS}[1h]))`,
      },
      {
        record: REPLICA_SLI.failed,
        expr: promql`
sum by (${REPLICA}) (rate(${llm.REQUESTS}{outcome=~"error|rejected"}[1h]))
  or sum by (${REPLICA}) (rate(${llm.REQUESTS}[1h])) * 0`.trim(),
      },
      {
        record: REPLICA_SLI.ttftCount,
        expr: promql`sum by (${REPLICA}) (rate(${count(llm.TIME_TO_FIRST_TOKEN)}[1h]))`,
      },
      {
        record: REPLICA_SLI.ttftSlow,
        expr: promql`
sum by (${REPLICA}) (rate(${count(llm.TIME_TO_FIRST_TOKEN)}[1h]))
  - sum by (${REPLICA}) (rate(${bucket(llm.TIME_TO_FIRST_TOKEN)}{le="${s.slo.ttft_seconds}"}[1h]))`.trim(),
      },
      {
        record: REPLICA_SLI.ttftBuckets,
        expr: promql`sum by (instance, model, le) (rate(${bucket(llm.TIME_TO_FIRST_TOKEN)}[1h]))`,
      },
    ];

    // One alert, four tiers: the fast two page, the slow two open a ticket.
    const burn = (
      def: AlertDef,
      sloName: 'availability' | 'ttft',
      text: (windows: string) => { summary: string; description: string },
    ) =>
      BURN_TIERS.map((t) => {
        const threshold = round(t.factor * budget[sloName]);
        return alert(
          { ...def, severity: t.severity },
          `
slo:sli_error:ratio_rate${t.long}{slo="${sloName}"} > ${threshold}
  and slo:sli_error:ratio_rate${t.short}{slo="${sloName}"} > ${threshold}
  and on (model) model:inferwatch_llm_requests:rate1h > ${s.slo.min_requests_per_second}`,
          text(`${t.long} (and ${t.short})`),
          { for: t.for },
          { long: t.long, short: t.short },
        );
      });

    return [
      {
        name: 'inferwatch-slo',
        rules: [
          ...sloRules,
          ...burn(SLO_ALERTS.availabilityBudgetBurn, 'availability', (windows) => ({
            summary: `Requests are failing fast enough to spend the ${pct(s.slo.availability_objective)} availability error budget early.`,
            description: `{{ $value | humanizePercentage }} of requests to {{ $labels.model }} failed over ${windows}.`,
          })),
          ...burn(SLO_ALERTS.ttftBudgetBurn, 'ttft', (windows) => ({
            summary: `Too many requests wait longer than ${s.slo.ttft_seconds} s for their first token (objective ${pct(s.slo.ttft_objective)}).`,
            description: `{{ $value | humanizePercentage }} of requests to {{ $labels.model }} waited more than ${s.slo.ttft_seconds} s for the first token over ${windows}.`,
          })),
        ],
      },
    ];
  },
};
