import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { panelRunbookUrl } from '../../alerts/src/runbook-links.js';
import type { RuleSettings } from '../../alerts/src/settings.js';
import { withClusterPicker } from './cluster.js';
import { withRunbookAgent, type Json } from './runbook-agent.js';
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
    runbookUrl: (alert) => panelRunbookUrl(settings, alert),
    ttftSeconds: settings.slo.ttft_seconds,
  };
  const label = settings.cluster_label;
  return new Map(
    DASHBOARDS.map(([file, build]) => {
      const built = withRunbookAgent(build(s).build() as unknown as Json, settings);
      const json = label ? withClusterPicker(built, label) : built;
      return [file, `${JSON.stringify(json, null, 2)}\n`];
    }),
  );
}
