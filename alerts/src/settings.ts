import { z } from 'zod';
import { ConfigError, formatIssues, parseYaml } from '../../agent/config/load.js';
import { TTFT_BUCKETS } from '../../agent/collectors/runtimes/buckets.js';
import { RUNTIME_KINDS } from '../../agent/collectors/runtimes/adapters/index.js';

const ratio = z.number().gt(0).lt(1);
const label = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be a plain label value');

/** alerts/settings.yaml: every threshold and objective the rules use, all required there. */
export const RuleSettingsSchema = z.strictObject({
  runbook_base_url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  jobs: z.strictObject({ agent: label, node_exporter: label }),
  slo: z.strictObject({
    availability_objective: ratio,
    ttft_objective: ratio,
    ttft_seconds: z.number().positive(),
    min_requests_per_second: z.number().min(0),
  }),
  gpu: z.strictObject({
    thermal_throttle_ratio: ratio,
    power_cap_ratio: ratio,
    nvlink_errors_per_hour: z.number().min(0),
    memory_exhausted_ratio: ratio,
  }),
  runtime: z.strictObject({
    kv_cache_saturated_ratio: ratio,
    queue_backlog_factor: z.number().positive(),
    queue_backlog_requests: z.number().positive(),
    on_demand_runtimes: z.array(z.enum(RUNTIME_KINDS)).min(1),
    flaps_per_30m: z.int().min(1),
    unresponsive_for: z.string().regex(/^\d+[smh]$/, 'must be a Prometheus duration, such as 10m'),
  }),
  probe: z.strictObject({
    canary_mismatches_per_hour: z.int().min(1),
    skipped_runs: z.int().min(2),
  }),
  quality: z.strictObject({ regression_margin: ratio }),
  cost: z.strictObject({
    energy_per_token_factor: z.number().gt(1),
    idle_utilization_ratio: ratio,
    idle_requests: z.number().min(0),
    above_reference_days: z.int().min(1).max(30),
  }),
});

export type RuleSettings = z.output<typeof RuleSettingsSchema>;

/** Validates a settings file; every problem is named by its path (a ConfigError: exit 2). */
export function parseSettings(text: string, source: string): RuleSettings {
  const result = RuleSettingsSchema.safeParse(parseYaml(text, source));
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  if (!(TTFT_BUCKETS as readonly number[]).includes(result.data.slo.ttft_seconds))
    throw new ConfigError(source, [
      `slo.ttft_seconds: must be a bucket boundary of inferwatch_llm_time_to_first_token_seconds (${TTFT_BUCKETS.join(', ')})`,
    ]);
  return result.data;
}
