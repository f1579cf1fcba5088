import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { RuleSettings } from '../../alerts/src/settings.js';
import type { DashboardSettings } from './common.js';
import { cost } from './cost.js';
import { fleet } from './fleet.js';
import { node } from './node.js';
import { probe } from './probe.js';
import { runtime } from './runtime.js';

const DASHBOARDS: readonly [string, (s: DashboardSettings) => DashboardBuilder][] = [
  ['fleet.json', fleet],
  ['node.json', node],
  ['runtime.json', runtime],
  ['probe.json', probe],
  ['cost.json', cost],
];

/** Each dashboard's file name and JSON text, as committed under dashboards/. */
export function dashboardFiles(settings: RuleSettings): Map<string, string> {
  const s: DashboardSettings = {
    runbookBaseUrl: settings.runbook_base_url,
    ttftSeconds: settings.slo.ttft_seconds,
  };
  return new Map(
    DASHBOARDS.map(([file, build]) => [file, `${JSON.stringify(build(s).build(), null, 2)}\n`]),
  );
}
