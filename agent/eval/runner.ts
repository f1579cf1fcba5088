import type { ProbeTarget } from '../probe/types.js';
import type { EvaluationConfig } from './config.js';
import {
  changedParts,
  filledFrom,
  FINGERPRINT_PARTS,
  fingerprintId,
  type Fingerprint,
} from './fingerprint.js';
import { runSuite, type RunJob, type RunOutcome } from './run.js';
import type { EvalStateFile, Trigger } from './state.js';
import { appliesTo, type LoadedSuite } from './suites.js';
import {
  runCountKey,
  type RunCounts,
  type RunnerInputs,
  type RunnerWorld,
} from './runner-ports.js';

/** How often the runner looks for changes (and for a baseline another process accepted). */
export const TICK_MS = 5000;

interface Pending {
  readonly id: string;
  readonly sinceMs: number;
}

/**
 * When evaluations run: after a change holds for settle_s (a model first seen counts), on the
 * schedule, and to finish a run a restart cut short. One run at a time for the whole agent,
 * a queue behind it, and a pause after a run that could not finish.
 */
export class EvalRunner {
  private readonly queue: RunJob[] = [];
  private current: RunJob | undefined;
  private draining: Promise<void> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly retryAt = new Map<string, number>();
  private readonly cancel = new AbortController();
  private stops: (() => void)[] = [];
  /** The last run that did not finish, per suite and target, for doctor. */
  readonly lastIncomplete = new Map<string, Extract<RunOutcome, { status: 'incomplete' }>>();

  constructor(
    private readonly config: EvaluationConfig,
    readonly suites: readonly LoadedSuite[],
    readonly state: EvalStateFile,
    private readonly inputs: RunnerInputs,
    private readonly world: RunnerWorld,
    readonly runs: RunCounts = new Map(),
  ) {}

  start(): void {
    this.state.load();
    if (this.state.readError)
      this.world.logger.error(
        { err: this.state.readError },
        'evaluation state unreadable: baselines are not kept until it is fixed or removed',
      );
    this.stops.push(this.world.every(TICK_MS, () => this.tick()));
    if (this.config.schedule !== '')
      this.stops.push(this.world.cron(this.config.schedule, () => this.scheduled()));
    this.tick();
  }

  async stop(): Promise<void> {
    this.cancel.abort();
    for (const stop of this.stops) stop();
    this.stops = [];
    await this.draining;
  }

  /** The runtimes the evaluation talks to now. */
  targetsNow(): readonly ProbeTarget[] {
    return this.inputs.targets();
  }

  get running(): RunJob | undefined {
    return this.current;
  }

  get queued(): readonly RunJob[] {
    return this.queue;
  }

  /** Looks for changes; resumes a run a restart cut short. */
  tick(): void {
    if (this.cancel.signal.aborted) return;
    this.state.reloadIfChanged();
    const targets = this.inputs.targets();
    this.resume(targets);
    if (!this.config.on_change) return;
    const now = this.world.clock.monotonicMs();
    for (const target of targets) {
      const observed = this.inputs.observed(target);
      // The model comes from the probe's runs: until one has answered, nothing to compare.
      if (observed.model === '') continue;
      for (const suite of this.suites) {
        if (!appliesTo(suite, target, observed.model)) continue;
        const key = this.keyOf(suite.name, target.target);
        if (this.busy(key) || (this.retryAt.get(key) ?? 0) > now) continue;
        const entry = this.state.get(suite.name, target.target, observed.model);
        const fingerprint = filledFrom(entry?.last.fingerprint, observed);
        const why = !entry
          ? 'first seen'
          : entry.last.suiteDigest !== suite.digest
            ? 'the suite changed'
            : changedParts(entry.last.fingerprint, observed)
                .map((p) => FINGERPRINT_PARTS[p])
                .join(', ');
        if (!why) {
          this.pending.delete(key);
          this.state.learn(suite.name, target.target, observed.model, observed);
          continue;
        }
        const id = fingerprintId(fingerprint);
        const seen = this.pending.get(key);
        if (!seen || seen.id !== id) {
          this.pending.set(key, { id, sinceMs: now });
          if (this.config.settle_s > 0) continue;
        }
        if (now - (this.pending.get(key)?.sinceMs ?? now) < this.config.settle_s * 1000) continue;
        this.pending.delete(key);
        this.world.logger.info(
          { suite: suite.name, target: target.target, model: observed.model, changed: why },
          'evaluation queued after a change',
        );
        this.enqueue(suite, target, 'change', fingerprint, {});
      }
    }
  }

  /** The schedule's run of every suite on every target it applies to. */
  scheduled(): void {
    for (const target of this.inputs.targets()) {
      const observed = this.inputs.observed(target);
      for (const suite of this.suites) {
        // A suite for some models only waits until the probe has said which one this is.
        if (!appliesTo(suite, target, observed.model)) continue;
        if (this.busy(this.keyOf(suite.name, target.target))) continue;
        const entry = observed.model
          ? this.state.get(suite.name, target.target, observed.model)
          : undefined;
        this.enqueue(suite, target, 'schedule', filledFrom(entry?.last.fingerprint, observed), {});
      }
    }
  }

  private resume(targets: readonly ProbeTarget[]): void {
    const progress = this.state.inProgress;
    if (!progress || this.current || this.queue.length > 0) return;
    const suite = this.suites.find((s) => s.name === progress.suite);
    const target = targets.find((t) => t.target === progress.target);
    if (!target && targets.length === 0) return; // the runtimes are not read yet
    const observed = target ? this.inputs.observed(target) : undefined;
    if (
      !suite ||
      !target ||
      !observed ||
      suite.digest !== progress.suiteDigest ||
      (observed.model !== '' && observed.model !== progress.model) ||
      changedParts(progress.fingerprint, observed).length > 0
    ) {
      // What it rests on changed since: the change itself starts a new run.
      this.state.setProgress(undefined);
      return;
    }
    this.world.logger.info(
      { suite: suite.name, target: target.target, done: Object.keys(progress.results).length },
      'evaluation resumed',
    );
    this.enqueue(
      suite,
      target,
      progress.trigger,
      progress.fingerprint,
      progress.results,
      progress.startedAtMs,
    );
  }

  private busy(key: string): boolean {
    const same = (j: RunJob) => this.keyOf(j.suite.name, j.target.target) === key;
    return (this.current !== undefined && same(this.current)) || this.queue.some(same);
  }

  private keyOf(suite: string, target: string): string {
    return JSON.stringify([suite, target]);
  }

  private enqueue(
    suite: LoadedSuite,
    target: ProbeTarget,
    trigger: Trigger,
    fingerprint: Fingerprint,
    done: RunJob['done'],
    startedAtMs = this.world.clock.epochMs(),
  ): void {
    this.queue.push({ suite, target, trigger, fingerprint, done, startedAtMs });
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.cancel.signal.aborted) {
      const job = this.queue.shift() as RunJob;
      this.current = job;
      try {
        await this.execute(job);
      } catch (error) {
        this.world.logger.error({ err: error, suite: job.suite.name }, 'evaluation run threw');
      } finally {
        this.current = undefined;
      }
    }
  }

  private async execute(job: RunJob): Promise<void> {
    const { suite, target } = job;
    const base = {
      suite: suite.name,
      target: target.target,
      runtime: target.runtime,
      trigger: job.trigger,
      fingerprint: job.fingerprint,
      suiteDigest: suite.digest,
      startedAtMs: job.startedAtMs,
    };
    this.state.setProgress({ ...base, model: job.fingerprint.model, results: job.done });
    const outcome = await runSuite(
      job,
      {
        caseIntervalMs: this.config.case_interval_ms,
        maxRunMs: this.config.max_run_s * 1000,
        maxTokens: this.config.max_tokens,
        seed: this.config.seed,
      },
      {
        ask: (t, q, c) => this.world.ask(t, q, c),
        clock: this.world.clock,
        sleep: (ms, s) => this.world.sleep(ms, s),
      },
      (results, model) => this.state.setProgress({ ...base, model, results }),
      this.cancel.signal,
    );
    // Stopping leaves the run on disk, to go on after the restart.
    if (outcome.status === 'incomplete' && outcome.reason === 'stopped') return;
    const key = this.keyOf(suite.name, target.target);
    const result = outcome.status === 'complete' ? 'complete' : 'incomplete';
    const count = runCountKey(suite.name, target.target, job.trigger, result);
    this.runs.set(count, (this.runs.get(count) ?? 0) + 1);
    if (outcome.status === 'incomplete') {
      this.state.setProgress(undefined);
      this.lastIncomplete.set(key, outcome);
      this.retryAt.set(key, this.world.clock.monotonicMs() + this.config.retry_after_s * 1000);
      this.world.logger.warn(
        {
          suite: suite.name,
          target: target.target,
          reason: outcome.reason,
          detail: outcome.detail,
        },
        'evaluation run incomplete; it is tried again later',
      );
      return;
    }
    this.lastIncomplete.delete(key);
    this.retryAt.delete(key);
    const entry = this.state.record(
      { suite: suite.name, target: target.target, runtime: target.runtime, model: outcome.model },
      outcome.summary,
    );
    const { last, baseline } = entry;
    this.world.logger.info(
      {
        suite: suite.name,
        target: target.target,
        model: outcome.model,
        trigger: job.trigger,
        pass_ratio: round(last.passRatio),
        baseline_pass_ratio: round(baseline.passRatio),
        failing: last.counts.fail,
        flaky: last.counts.flaky,
        duration_s: round(last.durationS),
      },
      'evaluation run complete',
    );
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
