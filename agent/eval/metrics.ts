import { counter, gauge } from '../core/metric.js';

const RUN = ['suite', 'target', 'runtime', 'model'] as const;

export const EVAL_PASS_RATIO = gauge(
  'inferwatch_eval_pass_ratio',
  "Share of the suite's cases the model answered right in its last complete run (a flaky case counts by its share of passes).",
  RUN,
);
export const EVAL_PASS_RATIO_LOWER = gauge(
  'inferwatch_eval_pass_ratio_lower_bound',
  'Lower bound of the pass ratio at evaluation.confidence (Wilson score interval over the cases).',
  RUN,
);
export const EVAL_PASS_RATIO_UPPER = gauge(
  'inferwatch_eval_pass_ratio_upper_bound',
  'Upper bound of the pass ratio at evaluation.confidence: below the baseline, the drop is more than chance.',
  RUN,
);
export const EVAL_BASELINE = gauge(
  'inferwatch_eval_baseline_pass_ratio',
  "The pass ratio runs are compared with: the suite's first complete run on this model, or the run last accepted (inferwatch eval --accept).",
  RUN,
);
export const EVAL_CHANGE = gauge(
  'inferwatch_eval_pass_ratio_change',
  'Last pass ratio less the baseline (negative: worse).',
  RUN,
);
export const EVAL_BASELINE_TIME = gauge(
  'inferwatch_eval_baseline_timestamp_seconds',
  'When the baseline run ended.',
  RUN,
);
export const EVAL_CASES = gauge(
  'inferwatch_eval_cases',
  'Cases of the last complete run by result: pass (every repeat right), fail (none), flaky (some).',
  [...RUN, 'result'],
);
export const EVAL_DURATION = gauge(
  'inferwatch_eval_duration_seconds',
  'Wall time of the last complete run, pauses and waits for a saturated runtime included.',
  RUN,
);
export const EVAL_LAST_RUN = gauge(
  'inferwatch_eval_last_run_timestamp_seconds',
  'When the last complete run ended.',
  RUN,
);
export const EVAL_FINGERPRINT = gauge(
  'inferwatch_eval_fingerprint_info',
  "What the last complete run evaluated: the model's weights (Ollama's digest, vLLM's root: the path or repository it loaded), the runtime's and the GPU driver's versions, the probe prompt's token count, and a short id of them all with the model.",
  [
    ...RUN,
    'weights',
    'runtime_version',
    'driver_version',
    'prompt_tokens',
    'fingerprint',
    'trigger',
  ],
);
export const EVAL_CASE_FAILING = gauge(
  'inferwatch_eval_case_failing',
  'A case of the last complete run that failed (result="fail") or was flaky (result="flaky"): its id only, at most evaluation.failing_cases.max.',
  [...RUN, 'case', 'result'],
);
export const EVAL_RUNS = counter(
  'inferwatch_eval_runs_total',
  'Evaluation runs that ended, by what started them (change, schedule) and result (complete, incomplete).',
  ['suite', 'target', 'trigger', 'result'],
);
export const EVAL_RUNNING = gauge(
  'inferwatch_eval_running',
  'Whether an evaluation run is under way (one at a time per agent).',
);
export const EVAL_QUEUED = gauge(
  'inferwatch_eval_queued_runs',
  'Evaluation runs waiting their turn.',
);

export const EVAL_METRICS = [
  EVAL_PASS_RATIO,
  EVAL_PASS_RATIO_LOWER,
  EVAL_PASS_RATIO_UPPER,
  EVAL_BASELINE,
  EVAL_CHANGE,
  EVAL_BASELINE_TIME,
  EVAL_CASES,
  EVAL_DURATION,
  EVAL_LAST_RUN,
  EVAL_FINGERPRINT,
  EVAL_CASE_FAILING,
  EVAL_RUNS,
  EVAL_RUNNING,
  EVAL_QUEUED,
] as const;
