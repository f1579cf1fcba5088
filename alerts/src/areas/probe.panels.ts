import * as M from '../metrics.js';
import { promql } from '../promql.js';
import { PROBE_ALERTS } from './probe.js';
import {
  okMapping,
  query,
  stat,
  thresholds,
  timeseries,
  type PanelContext,
} from '../../../dashboards/src/common.js';

/** The probe area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const PROBE_PANELS = {
  probesFailing: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Probes failing',
      description: 'Runtimes whose synthetic latency probe fails now.',
      unit: 'none',
      queries: [
        query(
          promql`count(${M.probe.PROBE_SUCCESS}{probe="latency", ${p.sel.picked}} == 0) or vector(0)`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'red'],
      ]),
      links: [p.link(PROBE_ALERTS.probeFailing)],
      width: 4,
    }),
  latencyProbe: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Latency probe',
      description:
        'The last latency probe of each runtime: passed (OK) or not (FAILING). A skipped run keeps the last verdict.',
      unit: 'none',
      width: 12,
      queries: [
        query(
          promql`${M.probe.PROBE_SUCCESS}{probe="latency", ${p.sel.picked}}`,
          '{{target}} {{model}}',
        ),
      ],
      mappings: okMapping('OK', 'FAILING'),
      links: [p.link(PROBE_ALERTS.probeFailing)],
    }),
  canaries: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Canaries',
      description: 'The last answer to each canary question: right or WRONG.',
      unit: 'none',
      width: 12,
      queries: [
        query(promql`${M.probe.PROBE_CANARY_MATCH}{${p.sel.picked}}`, '{{target}} {{canary}}'),
      ],
      mappings: okMapping('right', 'WRONG'),
      links: [p.link(PROBE_ALERTS.canaryMismatch)],
    }),
  timeToFirstToken: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Time to first token',
      description:
        'From sending the request to the first event with output; the first event of any kind (a role-only chunk) for comparison.',
      unit: 's',
      min: 0,
      queries: [
        query(promql`${M.probe.PROBE_TTFT}{${p.sel.picked}}`, '{{target}} {{probe}} TTFT'),
        query(
          promql`${M.probe.PROBE_FIRST_EVENT}{${p.sel.picked}}`,
          '{{target}} {{probe}} first event',
        ),
      ],
      links: [p.link(PROBE_ALERTS.probeFailing)],
    }),
  timePerOutputToken: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Time per output token and largest gap',
      description:
        'Time per output token after the first, and the longest wait between two output events (a stall shows here).',
      unit: 's',
      min: 0,
      queries: [
        query(promql`${M.probe.PROBE_TPOT}{${p.sel.picked}}`, '{{target}} {{probe}} TPOT'),
        query(
          promql`${M.probe.PROBE_MAX_GAP}{${p.sel.picked}}`,
          '{{target}} {{probe}} largest gap',
        ),
      ],
    }),
  promptTokens: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Prompt tokens of the fixed prompt',
      description:
        'The same prompt every time: a step means the chat template or the tokenizer changed.',
      unit: 'none',
      queries: [
        query(
          promql`${M.probe.PROBE_INPUT_TOKENS}{probe="latency", ${p.sel.picked}}`,
          '{{target}} {{model}}',
        ),
      ],
      links: [p.link(PROBE_ALERTS.probePromptTokensChanged)],
    }),
  sinceLastRun: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Seconds since the last run',
      description:
        'Age of each probe’s last completed run; it grows while runs are skipped or backing off.',
      unit: 's',
      min: 0,
      queries: [
        query(promql`time() - ${M.probe.PROBE_LAST_RUN}{${p.sel.picked}}`, '{{target}} {{probe}}'),
      ],
    }),
  failuresByReason: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Failures by reason',
      description:
        'Failed runs per hour by reason (connect, http_5xx, timeout_first_token, stall, content_mismatch, ...).',
      unit: 'none',
      min: 0,
      stack: true,
      queries: [
        query(
          promql`sum by (target, reason) (increase(${M.probe.PROBE_RUNS}{result="failure", ${p.sel.picked}}[1h]))`,
          '{{target}} {{reason}}',
        ),
      ],
      links: [p.link(PROBE_ALERTS.probeFailing)],
    }),
  skipsByReason: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Skips by reason',
      description:
        'Runs skipped per hour, by reason: the runtime was busy (saturated_queue, saturated_kv_cache, saturated_slots), the model not loaded, backing off, or the previous run still going.',
      unit: 'none',
      min: 0,
      stack: true,
      queries: [
        query(
          promql`sum by (target, reason) (increase(${M.probe.PROBE_RUNS}{result="skipped", ${p.sel.picked}}[1h]))`,
          '{{target}} {{reason}}',
        ),
      ],
    }),
  skippedInARow: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Skipped in a row',
      description:
        'Latency runs skipped one after another since the last run that sent a request. A probe that keeps being skipped measures nothing; the saturated_* reasons say the runtime itself reports live load.',
      unit: 'none',
      min: 0,
      queries: [
        query(
          promql`${M.probe.PROBE_CONSECUTIVE_SKIPS}{probe="latency", ${p.sel.picked}}`,
          '{{target}} {{model}}',
        ),
      ],
      links: [p.link(PROBE_ALERTS.probeSkipped)],
    }),
};
