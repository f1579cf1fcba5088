import { PROBE_PANELS } from '../../alerts/src/areas/probe.panels.js';
import * as M from '../../alerts/src/metrics.js';
import { promql } from '../../alerts/src/promql.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboard,
  labelVariable,
  nodeVariable,
  standardAnnotations,
  UIDS,
  panelContext,
  type DashboardSettings,
} from './common.js';

const SEL = 'instance=~"$instance", target=~"$target"';

/** What a user gets: the synthetic probe's verdicts, timings, canaries and skips. */
export function probe(settings: DashboardSettings): DashboardBuilder {
  const p = panelContext(settings, { picked: SEL });
  const b = dashboard(
    UIDS.probe,
    'inferwatch / Synthetic probe',
    'The agent’s own small streamed requests to each runtime: did they pass, how fast was the first token and each one after it, did the canaries answer right, and why runs were skipped.',
  )
    .withVariable(nodeVariable(M.probe.PROBE_SUCCESS.name))
    .withVariable(
      labelVariable(
        'target',
        'Runtime',
        promql`label_values(${M.probe.PROBE_SUCCESS}{instance=~"$instance"}, target)`,
        {
          multi: true,
          includeAll: true,
        },
      ),
    )
    .withRow(new RowBuilder('Verdicts'))
    .withPanel(PROBE_PANELS.latencyProbe(p))
    .withPanel(PROBE_PANELS.canaries(p))
    .withRow(new RowBuilder('Timings'))
    .withPanel(PROBE_PANELS.timeToFirstToken(p))
    .withPanel(PROBE_PANELS.timePerOutputToken(p))
    .withPanel(PROBE_PANELS.promptTokens(p))
    .withPanel(PROBE_PANELS.sinceLastRun(p))
    .withRow(new RowBuilder('Runs'))
    .withPanel(PROBE_PANELS.failuresByReason(p))
    .withPanel(PROBE_PANELS.skipsByReason(p))
    .withPanel(PROBE_PANELS.skippedInARow(p));
  return standardAnnotations(b, 'instance=~"$instance"');
}
