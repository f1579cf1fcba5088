import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Asked } from '../probe/run.js';
import type { ProbeTarget, Question } from '../probe/types.js';
import type { Fingerprint } from './fingerprint.js';
import type { Trigger } from './state.js';

/** What the evaluation runner is given: the world it runs in, what it watches, what it counts. */
export interface RunnerWorld {
  readonly clock: Clock;
  readonly logger: Logger;
  ask(target: ProbeTarget, question: Question, cancel: AbortSignal): Promise<Asked>;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms`; returns what stops it. */
  every(ms: number, fn: () => void): () => void;
  /** Calls `fn` at the times a cron expression names; returns what stops it. */
  cron(expression: string, fn: () => void): () => void;
}

/** What the runner watches: the runtimes the probe talks to, and what each rests on now. */
export interface RunnerInputs {
  targets(): readonly ProbeTarget[];
  observed(target: ProbeTarget): Fingerprint;
}

/** Runs counted by suite, target, trigger and result, kept across a configuration reload. */
export type RunCounts = Map<string, number>;

export function runCountKey(suite: string, target: string, trigger: Trigger, result: string) {
  return JSON.stringify([suite, target, trigger, result]);
}
