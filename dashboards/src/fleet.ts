import { AGENT_PANELS } from '../../alerts/src/areas/agent.panels.js';
import { AGGREGATES_PANELS } from '../../alerts/src/areas/aggregates.panels.js';
import { GPU_PANELS } from '../../alerts/src/areas/gpu.panels.js';
import { PROBE_PANELS } from '../../alerts/src/areas/probe.panels.js';
import { RUNTIME_PANELS } from '../../alerts/src/areas/runtime.panels.js';
import * as M from '../../alerts/src/metrics.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboard,
  nodeVariable,
  standardAnnotations,
  UIDS,
  panelContext,
  type DashboardSettings,
} from './common.js';

const SEL = 'instance=~"$instance"';

/** One row per node: is anything on fire, and where to click next. */
export function fleet(settings: DashboardSettings): DashboardBuilder {
  const p = panelContext(settings, { picked: SEL });
  const b = dashboard(
    UIDS.fleet,
    'inferwatch / Fleet',
    'Every inference node at a glance: GPUs, load, latency, probe and firing alerts, one row per node, linking to the node view.',
  )
    .withVariable(nodeVariable(M.self.BUILD_INFO.name))
    .withRow(new RowBuilder('Fleet'))
    .withPanel(AGENT_PANELS.nodesReporting(p))
    .withPanel(GPU_PANELS.fleetGpuCount(p))
    .withPanel(RUNTIME_PANELS.fleetTokensPerSecond(p))
    .withPanel(AGENT_PANELS.pagesFiring(p))
    .withPanel(AGENT_PANELS.ticketsFiring(p))
    .withPanel(PROBE_PANELS.probesFailing(p))
    .withPanel(AGGREGATES_PANELS.nodes(p))
    .withRow(new RowBuilder('Trends'))
    .withPanel(GPU_PANELS.gpuUtilizationByNode(p))
    .withPanel(RUNTIME_PANELS.tokensPerSecondByNode(p));
  return standardAnnotations(b, SEL);
}
