import { z } from 'zod';
import { ConfigError, formatIssues, parseYaml } from '../../agent/config/load.js';
import { COST_SETTINGS } from './areas/cost.js';
import { GPU_SETTINGS } from './areas/gpu.js';
import { PROBE_SETTINGS } from './areas/probe.js';
import { QUALITY_SETTINGS } from './areas/quality.js';
import { RUNTIME_SETTINGS } from './areas/runtime.js';
import { SLO_SETTINGS } from './areas/slo.js';
import { label, labelName } from './settings-fields.js';

/**
 * alerts/settings.yaml: every threshold and objective the rules use, all required there. Each
 * area owns its block (its thresholds live beside its alerts); the rest is the site's.
 */
export const RuleSettingsSchema = z.strictObject({
  runbook_base_url: z.union([
    z.literal(''),
    z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL, or ''" }),
  ]),
  jobs: z.strictObject({ agent: label, node_exporter: label, node_exporter_node_label: labelName }),
  cluster_label: z.union([
    z.literal(''),
    z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name, or empty'),
  ]),
  slo: SLO_SETTINGS,
  gpu: GPU_SETTINGS,
  runtime: RUNTIME_SETTINGS,
  probe: PROBE_SETTINGS,
  quality: QUALITY_SETTINGS,
  cost: COST_SETTINGS,
  /**
   * Values of the Helm chart for the plain manifests (deploy/helm/inferwatch/values.yaml has
   * every one), checked against the chart's schema when the bundle is made.
   */
  kubernetes: z.record(z.string(), z.unknown()).default({}),
});

export type RuleSettings = z.output<typeof RuleSettingsSchema>;

/** Validates a settings file; every problem is named by its path (a ConfigError: exit 2). */
export function parseSettings(text: string, source: string): RuleSettings {
  const result = RuleSettingsSchema.safeParse(parseYaml(text, source));
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return result.data;
}
