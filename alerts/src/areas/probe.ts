import { z } from 'zod';
import { probe } from '../metrics.js';
import { promql } from '../promql.js';
import { defineAlert, type Area } from '../rule.js';

/** The probe area's thresholds: `probe:` in the settings file. */
export const PROBE_SETTINGS = z.strictObject({
  canary_mismatches_per_hour: z.int().min(1),
  skipped_runs: z.int().min(2),
});

export const PROBE_ALERTS = {
  probeFailing: defineAlert(
    'LLMNodeProbeFailing',
    'critical',
    'probe',
    () => 'the latency probe fails',
  ),
  canaryMismatch: defineAlert(
    'LLMNodeCanaryMismatch',
    'warning',
    'probe',
    (s) => `${s.probe.canary_mismatches_per_hour} or more wrong canary answers in an hour`,
  ),
  probePromptTokensChanged: defineAlert(
    'LLMNodeProbePromptTokensChanged',
    'warning',
    'probe',
    () => 'the same probe prompt counts other tokens (chat template or tokenizer changed), held 1h',
  ),
  probeSkipped: defineAlert(
    'LLMNodeProbeSkipped',
    'warning',
    'probe',
    (s) =>
      `the latency probe was skipped ${s.probe.skipped_runs} times in a row (runtime saturated, model not loaded, backing off): nothing measures what users get`,
  ),
} as const;

/** The synthetic probe: failing, wrong canary answers, a changed prompt, skipped runs. */
export const probeArea: Area = {
  name: 'probe',
  alerts: Object.values(PROBE_ALERTS),
  tests: ['probe-agent.test.yml'],
  groups: (s, { alert }) => [
    {
      name: 'inferwatch-probe',
      rules: [
        alert(
          PROBE_ALERTS.probeFailing,
          promql`${probe.PROBE_SUCCESS}{probe="latency"} == 0`,
          {
            summary:
              'The synthetic inference probe fails: a user asking this runtime gets no answer.',
            description: `The probe of {{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) has failed for 5m; ${probe.PROBE_RUNS.name} says why.`,
          },
          { for: '5m' },
        ),
        alert(
          PROBE_ALERTS.canaryMismatch,
          promql`
sum by (node, instance, target, model) (
  increase(${probe.PROBE_RUNS}{probe="canary", reason="content_mismatch"}[1h])
) >= ${s.probe.canary_mismatches_per_hour}`,
          {
            summary: 'The model answers questions with a known answer wrongly.',
            description:
              '{{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) answered {{ $value | printf "%.0f" }} canary question(s) wrongly in the last hour.',
          },
        ),
        alert(
          PROBE_ALERTS.probePromptTokensChanged,
          promql`changes(${probe.PROBE_INPUT_TOKENS}{probe="latency"}[1h]) > 0`,
          {
            summary:
              "The same probe prompt now counts a different number of tokens: the model's chat template or tokenizer changed.",
            description:
              'The prompt-token count of the latency probe of {{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) changed {{ $value | printf "%.0f" }} time(s) in the last hour, for the same prompt.',
          },
          { keep_firing_for: '1h' },
        ),
        alert(
          PROBE_ALERTS.probeSkipped,
          promql`${probe.PROBE_CONSECUTIVE_SKIPS}{probe="latency"} >= ${s.probe.skipped_runs}`,
          {
            summary:
              'The synthetic probe keeps being skipped: nothing is measuring what a user gets from this runtime.',
            description: `The latency probe of {{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) was skipped {{ $value | printf "%.0f" }} times in a row; ${probe.PROBE_RUNS.name}{result="skipped"} says why.`,
          },
        ),
      ],
    },
  ],
};
