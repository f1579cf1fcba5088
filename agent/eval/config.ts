import cron from 'node-cron';
import { z } from 'zod';
import type { AgentConfig } from '../config/load.js';
import { CONFIDENCE_LEVELS } from './stats.js';

/** A suite's name: a label value, and a key in the state file. */
export const SUITE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const BUILTIN_SUITE = 'builtin';

const validRegex = (pattern: string) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

const suite = z.strictObject({
  name: z
    .string()
    .regex(SUITE_NAME, 'must be 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit')
    .refine((n) => n !== BUILTIN_SUITE, { message: `'${BUILTIN_SUITE}' is the built-in suite` })
    .describe('Its name, as the suite label of its series says.'),
  file: z
    .string()
    .min(1)
    .describe('The JSONL file of its cases, one JSON object a line (docs/evaluation.md).'),
  runtimes: z
    .array(z.string().min(1))
    .max(64)
    .default([])
    .describe('Runtime kinds (vllm, ollama, ...) or target names it applies to; empty: all.'),
  models: z
    .array(
      z.string().min(1).max(500).refine(validRegex, {
        message: 'must be a valid regular expression',
      }),
    )
    .max(64)
    .default([])
    .describe(
      'Regular expressions, each matched against the whole served model name; empty: all models.',
    ),
  repeats: z
    .int()
    .min(1)
    .max(10)
    .optional()
    .describe('Times each case is asked (default: evaluation.repeats; a case may set its own).'),
});

/** The evaluation block of the config. */
export const evaluationConfig = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Evaluate each model again with question sets whose answers are known, when anything under it changes and on a schedule.',
      ),
    builtin_suite: z
      .boolean()
      .default(true)
      .describe(
        'Run the built-in suite (12 short questions any instruction-tuned model answers) against every model.',
      ),
    suites: z
      .array(suite)
      .max(32)
      .default([])
      .refine((list) => new Set(list.map((s) => s.name)).size === list.length, {
        message: 'each suite needs its own name',
      })
      .describe('Suites of your own, each {name, file, runtimes, models, repeats}.'),
    on_change: z
      .boolean()
      .default(true)
      .describe(
        "Run when the model or its weights, the runtime's version, the GPU driver's version or the probe prompt's token count changes, and for a model first seen.",
      ),
    settle_s: z
      .int()
      .min(0)
      .max(86_400)
      .default(120)
      .describe(
        'A change must hold this long before its run starts (a rolling restart settles first).',
      ),
    schedule: z
      .string()
      .default('17 3 * * *')
      .refine((e) => e === '' || cron.validate(e), {
        message: 'must be a cron expression (5 fields, or 6 with seconds) or empty',
      })
      .describe(
        "When to run besides changes, as a cron expression in the agent's time zone; empty: never.",
      ),
    repeats: z
      .int()
      .min(1)
      .max(10)
      .default(1)
      .describe(
        'Times each case is asked. Above 1, a case that answers both ways is flaky: it counts by its share of passes.',
      ),
    seed: z
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1234)
      .describe('Sampling seed sent with every case (temperature is always 0).'),
    max_tokens: z
      .int()
      .min(1)
      .max(4096)
      .default(64)
      .describe('Output tokens a case may use unless it sets its own max_tokens.'),
    timeout_ms: z
      .int()
      .min(1000)
      .max(600_000)
      .default(60_000)
      .describe('Longest one case may take.'),
    case_interval_ms: z
      .int()
      .min(0)
      .max(600_000)
      .default(1000)
      .describe('Pause between two requests: a run is a trickle, not a load test.'),
    max_run_s: z
      .int()
      .min(60)
      .max(86_400)
      .default(3600)
      .describe(
        'Longest a run may take, skips while the runtime is saturated included; past it the run is incomplete.',
      ),
    retry_after_s: z
      .int()
      .min(10)
      .max(86_400)
      .default(900)
      .describe('After an incomplete run, the next try waits this long.'),
    confidence: z
      .literal(CONFIDENCE_LEVELS)
      .default(0.95)
      .describe(
        "Confidence of the pass ratio's bounds (0.9, 0.95 or 0.99): the regression alert needs the upper bound below the baseline.",
      ),
    failing_cases: z
      .strictObject({
        export: z
          .boolean()
          .default(true)
          .describe('Export the ids of failing cases (ids only: never prompts or answers).'),
        max: z
          .int()
          .min(1)
          .max(200)
          .default(20)
          .describe('Failing case ids exported per suite and model, at most.'),
      })
      .prefault({})
      .describe('Which cases fail, as series.'),
  })
  .refine((e) => e.timeout_ms < e.max_run_s * 1000, {
    message: 'must be less than max_run_s',
    path: ['timeout_ms'],
  });

/** The block as the agent holds it: validated once, frozen. */
export type EvaluationConfig = AgentConfig['evaluation'];
