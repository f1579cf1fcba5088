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
    .withVariable(nodeVariable('inferwatch_probe_success'))
    .withVariable(
      labelVariable(
        'target',
        'Runtime',
        'label_values(inferwatch_probe_success{instance=~"$instance"}, target)',
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
          query(`inferwatch_probe_success{probe="latency", ${SEL}}`, '{{target}} {{model}}'),
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
        queries: [query(`inferwatch_probe_canary_match{${SEL}}`, '{{target}} {{canary}}')],
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
          query(`inferwatch_probe_ttft_seconds{${SEL}}`, '{{target}} {{probe}} TTFT'),
          query(`inferwatch_probe_first_event_seconds{${SEL}}`, '{{target}} {{probe}} first event'),
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
          query(`inferwatch_probe_tpot_seconds{${SEL}}`, '{{target}} {{probe}} TPOT'),
          query(
            `inferwatch_probe_max_token_gap_seconds{${SEL}}`,
            '{{target}} {{probe}} largest gap',
          ),
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
          query(`inferwatch_probe_input_tokens{probe="latency", ${SEL}}`, '{{target}} {{model}}'),
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
          query(
            `time() - inferwatch_probe_last_run_timestamp_seconds{${SEL}}`,
            '{{target}} {{probe}}',
          ),
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
            `sum by (target, reason) (increase(inferwatch_probe_runs_total{result="failure", ${SEL}}[1h]))`,
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
            `sum by (target, reason) (increase(inferwatch_probe_runs_total{result="skipped", ${SEL}}[1h]))`,
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
            `inferwatch_probe_consecutive_skips{probe="latency", ${SEL}}`,
            '{{target}} {{model}}',
          ),
        ],
        links: [link(PROBE_ALERTS.probeSkipped)],
      }),
    );
  return standardAnnotations(b, 'instance=~"$instance"');
}
