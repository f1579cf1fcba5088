import * as M from '../../alerts/src/metrics.js';
import { promql } from '../../alerts/src/promql.js';
import type { AlertDef } from '../../alerts/src/rule.js';
import { PROBE_ALERTS } from '../../alerts/src/areas/probe.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboard,
  labelVariable,
  nodeVariable,
  okMapping,
  query,
  runbookLink,
  standardAnnotations,
  stat,
  timeseries,
  UIDS,
  type DashboardSettings,
} from './common.js';

const SEL = 'instance=~"$instance", target=~"$target"';

/** What a user gets: the synthetic probe's verdicts, timings, canaries and skips. */
export function probe(settings: DashboardSettings): DashboardBuilder {
  const link = (alert: AlertDef) => runbookLink(settings, alert);
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
    .withPanel(
      stat({
        title: 'Latency probe',
        description:
          'The last latency probe of each runtime: passed (OK) or not (FAILING). A skipped run keeps the last verdict.',
        unit: 'none',
        width: 12,
        queries: [
          query(promql`${M.probe.PROBE_SUCCESS}{probe="latency", ${SEL}}`, '{{target}} {{model}}'),
        ],
        mappings: okMapping('OK', 'FAILING'),
        links: [link(PROBE_ALERTS.probeFailing)],
      }),
    )
    .withPanel(
      stat({
        title: 'Canaries',
        description: 'The last answer to each canary question: right or WRONG.',
        unit: 'none',
        width: 12,
        queries: [query(promql`${M.probe.PROBE_CANARY_MATCH}{${SEL}}`, '{{target}} {{canary}}')],
        mappings: okMapping('right', 'WRONG'),
        links: [link(PROBE_ALERTS.canaryMismatch)],
      }),
    )
    .withRow(new RowBuilder('Timings'))
    .withPanel(
      timeseries({
        title: 'Time to first token',
        description:
          'From sending the request to the first event with output; the first event of any kind (a role-only chunk) for comparison.',
        unit: 's',
        min: 0,
        queries: [
          query(promql`${M.probe.PROBE_TTFT}{${SEL}}`, '{{target}} {{probe}} TTFT'),
          query(promql`${M.probe.PROBE_FIRST_EVENT}{${SEL}}`, '{{target}} {{probe}} first event'),
        ],
        links: [link(PROBE_ALERTS.probeFailing)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Time per output token and largest gap',
        description:
          'Time per output token after the first, and the longest wait between two output events (a stall shows here).',
        unit: 's',
        min: 0,
        queries: [
          query(promql`${M.probe.PROBE_TPOT}{${SEL}}`, '{{target}} {{probe}} TPOT'),
          query(promql`${M.probe.PROBE_MAX_GAP}{${SEL}}`, '{{target}} {{probe}} largest gap'),
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Prompt tokens of the fixed prompt',
        description:
          'The same prompt every time: a step means the chat template or the tokenizer changed.',
        unit: 'none',
        queries: [
          query(
            promql`${M.probe.PROBE_INPUT_TOKENS}{probe="latency", ${SEL}}`,
            '{{target}} {{model}}',
          ),
        ],
        links: [link(PROBE_ALERTS.probePromptTokensChanged)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Seconds since the last run',
        description:
          'Age of each probe’s last completed run; it grows while runs are skipped or backing off.',
        unit: 's',
        min: 0,
        queries: [
          query(promql`time() - ${M.probe.PROBE_LAST_RUN}{${SEL}}`, '{{target}} {{probe}}'),
        ],
      }),
    )
    .withRow(new RowBuilder('Runs'))
    .withPanel(
      timeseries({
        title: 'Failures by reason',
        description:
          'Failed runs per hour by reason (connect, http_5xx, timeout_first_token, stall, content_mismatch, ...).',
        unit: 'none',
        min: 0,
        stack: true,
        queries: [
          query(
            promql`sum by (target, reason) (increase(${M.probe.PROBE_RUNS}{result="failure", ${SEL}}[1h]))`,
            '{{target}} {{reason}}',
          ),
        ],
        links: [link(PROBE_ALERTS.probeFailing)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Skips by reason',
        description:
          'Runs skipped per hour, by reason: the runtime was busy (saturated_queue, saturated_kv_cache, saturated_slots), the model not loaded, backing off, or the previous run still going.',
        unit: 'none',
        min: 0,
        stack: true,
        queries: [
          query(
            promql`sum by (target, reason) (increase(${M.probe.PROBE_RUNS}{result="skipped", ${SEL}}[1h]))`,
            '{{target}} {{reason}}',
          ),
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Skipped in a row',
        description:
          'Latency runs skipped one after another since the last run that sent a request. A probe that keeps being skipped measures nothing; the saturated_* reasons say the runtime itself reports live load.',
        unit: 'none',
        min: 0,
        queries: [
          query(
            promql`${M.probe.PROBE_CONSECUTIVE_SKIPS}{probe="latency", ${SEL}}`,
            '{{target}} {{model}}',
          ),
        ],
        links: [link(PROBE_ALERTS.probeSkipped)],
      }),
    );
  return standardAnnotations(b, 'instance=~"$instance"');
}
