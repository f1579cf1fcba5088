import { z } from 'zod';
import { quality } from '../metrics.js';
import { promql } from '../promql.js';
import { defineAlert, round, type Area } from '../rule.js';
import { ratio } from '../settings-fields.js';

/** The quality area's settings: `quality:` in the settings file. */
export const QUALITY_SETTINGS = z.strictObject({ regression_margin: ratio });

export const QUALITY_ALERTS = {
  qualityRegression: defineAlert(
    'LLMNodeQualityRegression',
    'critical',
    'quality',
    (s) =>
      `an evaluation suite's pass ratio fell more than ${round(s.quality.regression_margin * 100)} points below its baseline, beyond chance (the upper bound of its interval, 95% by default), after a change or on the schedule`,
  ),
} as const;

/** Answer quality: an evaluation suite's pass ratio below its baseline beyond chance. */
export const qualityArea: Area = {
  name: 'quality',
  alerts: Object.values(QUALITY_ALERTS),
  tests: ['quality.test.yml'],
  groups: (s, { alert }) => [
    {
      name: 'inferwatch-quality',
      rules: [
        alert(
          QUALITY_ALERTS.qualityRegression,
          promql`
(
  ${quality.EVAL_PASS_RATIO_UPPER}
    < ${quality.EVAL_BASELINE} - ${s.quality.regression_margin}
)
* ignoring (weights, runtime_version, driver_version, prompt_tokens, fingerprint, trigger)
  group_left (runtime_version, driver_version)
  ${quality.EVAL_FINGERPRINT}`,
          {
            summary:
              'A model answers its evaluation suite worse than its baseline, by more than chance: something under it changed.',
            description: `Suite {{ $labels.suite }} on {{ $labels.model }} ({{ $labels.target }}, {{ $labels.instance }}, {{ $labels.runtime }} {{ $labels.runtime_version }}, driver {{ $labels.driver_version }}): even the upper bound of its pass ratio, {{ $value | humanizePercentage }}, is more than ${Math.round(s.quality.regression_margin * 100)} points below its baseline.`,
          },
        ),
      ],
    },
  ],
};
