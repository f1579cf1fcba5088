import type { Clock } from '../core/clock.js';
import type { Asked } from '../probe/run.js';
import type { Question } from '../probe/types.js';
import type { ProbeTarget } from '../probe/types.js';
import type { Fingerprint } from './fingerprint.js';
import { judge } from './judge.js';
import { MAX_IDS_KEPT, type CaseTally, type RunSummary, type Trigger } from './state.js';
import type { LoadedSuite } from './suites.js';

export interface RunJob {
  readonly suite: LoadedSuite;
  readonly target: ProbeTarget;
  readonly trigger: Trigger;
  readonly fingerprint: Fingerprint;
  readonly startedAtMs: number;
  /** What a run cut short by a restart had already found. */
  readonly done: Readonly<Record<string, CaseTally>>;
}

export interface RunLimits {
  readonly caseIntervalMs: number;
  readonly maxRunMs: number;
  readonly maxTokens: number;
  readonly seed: number;
}

export interface RunWorld {
  ask(target: ProbeTarget, question: Question, cancel: AbortSignal): Promise<Asked>;
  readonly clock: Clock;
  /** Resolves after `ms`, or at once when `signal` fires. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export type RunOutcome =
  | { readonly status: 'complete'; readonly model: string; readonly summary: RunSummary }
  | {
      readonly status: 'incomplete';
      readonly model: string;
      readonly reason: 'saturated' | 'errors' | 'model_changed' | 'stopped' | 'timeout';
      readonly detail: string;
    };

/** Tries of one case that end in an error (not a skip) before the run gives up. */
const ERROR_TRIES = 3;
/** Longest wait after a skip (the runtime saturated) or an error before asking again. */
const MAX_WAIT_MS = 60_000;

/**
 * One suite against one target's model, a case at a time with a pause between requests,
 * under the probe's do-no-harm rules (a saturated runtime is waited for, not queued behind).
 * `progress` is called after each answer, so the run can be resumed; answers are judged and
 * dropped there and then.
 */
export async function runSuite(
  job: RunJob,
  limits: RunLimits,
  world: RunWorld,
  progress: (results: Readonly<Record<string, CaseTally>>, model: string) => void,
  cancel: AbortSignal,
): Promise<RunOutcome> {
  const { suite, target } = job;
  const results: Record<string, CaseTally> = {};
  for (const c of suite.cases) if (job.done[c.id]) results[c.id] = job.done[c.id] as CaseTally;
  const started = world.clock.monotonicMs();
  let model = job.fingerprint.model;
  let waitMs = limits.caseIntervalMs;
  const incomplete = (
    reason: Extract<RunOutcome, { status: 'incomplete' }>['reason'],
    detail: string,
  ) => ({ status: 'incomplete', model, reason, detail }) as const;

  for (const c of suite.cases) {
    const repeats = c.repeats ?? suite.repeats;
    let errors = 0;
    let skips = 0;
    while ((results[c.id]?.asked ?? 0) < repeats) {
      await world.sleep(waitMs, cancel);
      if (cancel.aborted) return incomplete('stopped', 'the agent stopped; the run resumes');
      if (world.clock.monotonicMs() - started > limits.maxRunMs)
        return incomplete(
          skips > 0 ? 'saturated' : 'timeout',
          `not done within ${limits.maxRunMs / 1000} s${skips > 0 ? ' (the runtime stayed saturated)' : ''}`,
        );
      const last = c.messages.at(-1);
      const asked = await world.ask(
        target,
        {
          prompt: last?.content ?? '',
          messages: c.messages,
          maxTokens: c.maxTokens ?? limits.maxTokens,
          seed: limits.seed,
        },
        cancel,
      );
      if (cancel.aborted) return incomplete('stopped', 'the agent stopped; the run resumes');
      if (asked.model !== '' && model !== '' && asked.model !== model)
        return incomplete('model_changed', `the target now serves ${asked.model}`);
      if (asked.model !== '') model = asked.model;
      if (asked.outcome === 'answered') {
        const before = results[c.id] ?? { passes: 0, asked: 0 };
        results[c.id] = {
          passes: before.passes + (judge(c.expect, asked.text) ? 1 : 0),
          asked: before.asked + 1,
        };
        waitMs = limits.caseIntervalMs;
        progress(results, model);
        continue;
      }
      // Skipped (saturated, model not loaded) or failed: wait longer each time, and try again.
      waitMs = Math.min(MAX_WAIT_MS, Math.max(1000, waitMs * 2));
      if (asked.outcome === 'skipped') skips++;
      else if (++errors >= ERROR_TRIES)
        return incomplete('errors', `case ${c.id}: ${asked.reason} (${asked.detail})`);
    }
  }
  return {
    status: 'complete',
    model,
    summary: summarize(
      job,
      results,
      model,
      (world.clock.monotonicMs() - started) / 1000,
      world.clock.epochMs(),
    ),
  };
}

function summarize(
  job: RunJob,
  results: Readonly<Record<string, CaseTally>>,
  model: string,
  durationS: number,
  atMs: number,
): RunSummary {
  const failing: string[] = [];
  const flaky: string[] = [];
  let score = 0;
  for (const c of job.suite.cases) {
    const t = results[c.id] ?? { passes: 0, asked: 1 };
    score += t.passes / t.asked;
    if (t.passes === 0) failing.push(c.id);
    else if (t.passes < t.asked) flaky.push(c.id);
  }
  const cases = job.suite.cases.length;
  return {
    atMs,
    durationS,
    trigger: job.trigger,
    fingerprint: { ...job.fingerprint, model },
    suiteDigest: job.suite.digest,
    cases,
    passRatio: cases === 0 ? 0 : score / cases,
    counts: {
      pass: cases - failing.length - flaky.length,
      fail: failing.length,
      flaky: flaky.length,
    },
    failing: failing.slice(0, MAX_IDS_KEPT),
    flaky: flaky.slice(0, MAX_IDS_KEPT),
  };
}
