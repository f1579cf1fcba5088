import { placedByTarget } from '../shared/place.js';
import { randomUUID } from 'node:crypto';
import type { CollectorDeps } from '../shared/collector-factory.js';
import type { AgentConfig } from '../config/load.js';
import type { Collector, Emitter, SourceStatus } from '../core/collector.js';
import { stateDir } from '../core/state-dir.js';
import type { MetricDef } from '../core/metric.js';
import { ask } from '../probe/run.js';
import { PROBE_TRAFFIC_METRICS } from '../probe/store.js';
import { probeSettings, probeTargets } from '../probe/settings.js';
import { nodeStreaming, type StreamingHttp } from '../probe/transport.js';
import type { ProbeSettings, ProbeTarget } from '../probe/types.js';
import type { EvaluationConfig } from './config.js';
import { fingerprintId, type Fingerprint } from './fingerprint.js';
import * as M from './metrics.js';
import { EvalRunner } from './runner.js';
import type { RunCounts, RunnerWorld } from './runner-ports.js';
import { realTimers } from './timers.js';
import { EvalStateFile, type Entry } from './state.js';
import { wilson } from './stats.js';
import { loadSuites } from './suites.js';

/** The probe's settings, with the evaluation's deadline and its own request-id prefix. */
export function evalSettings(config: AgentConfig): ProbeSettings {
  return {
    ...probeSettings(config.probe),
    timeoutMs: config.evaluation.timeout_ms,
    requestIdPrefix: `${config.probe.marker.request_id_prefix}eval-`,
  };
}

/**
 * Quality as a metric: suites of questions with known answers, run again when what a model
 * rests on changes, exported against a baseline kept in the state directory. Runs happen in
 * the background; a scrape writes what the last runs found.
 */
export class EvalCollector implements Collector {
  readonly name = 'evaluation';
  readonly metrics: readonly MetricDef[];
  /** With the probe off, this collector exports the synthetic traffic counters it feeds. */
  private readonly exportsTraffic: boolean;
  readonly runner: EvalRunner;
  private readonly config: EvaluationConfig;
  private readonly problems: readonly string[];
  private started = false;

  constructor(
    agentConfig: AgentConfig,
    private readonly deps: CollectorDeps,
    options: {
      readonly stream?: StreamingHttp;
      readonly timers?: Partial<Pick<RunnerWorld, 'sleep' | 'every' | 'cron'>>;
    } = {},
  ) {
    this.config = agentConfig.evaluation;
    this.exportsTraffic = !agentConfig.probe.enabled;
    this.metrics = this.exportsTraffic
      ? [...M.EVAL_METRICS, ...PROBE_TRAFFIC_METRICS]
      : M.EVAL_METRICS;
    const { suites, problems } = loadSuites(this.config);
    this.problems = problems;
    const settings = evalSettings(agentConfig);
    const world = {
      http: deps.http,
      stream: options.stream ?? nodeStreaming,
      clock: deps.clock,
      requestId: randomUUID,
    };
    this.runner = new EvalRunner(
      this.config,
      suites,
      EvalStateFile.inDir(stateDir(agentConfig.state_dir)),
      {
        targets: () => probeTargets(deps.runtimeEndpoints.current, agentConfig.probe),
        observed: (target) => this.observed(target),
      },
      {
        clock: deps.clock,
        logger: deps.logger,
        ask: async (target, question, cancel) => {
          const asked = await ask(target, question, settings, world, cancel);
          // Synthetic traffic, subtracted from what users were served, as the probe's is.
          if (asked.sent)
            deps.probeStore.countTraffic(
              { runtime: target.runtime, target: target.target, model: asked.model },
              target.promptTokensCounted,
              asked.sent.measured,
            );
          return asked;
        },
        ...realTimers,
        ...options.timers,
      },
      deps.durable.get<RunCounts>('evaluation-runs', () => new Map()),
    );
  }

  start(): Promise<void> {
    this.started = true;
    this.runner.start();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.runner.stop();
  }

  /** What a target's model rests on now, from what the other sources last read. */
  observed(target: ProbeTarget): Fingerprint {
    const last = this.deps.probeStore.lastResult(target.target, 'latency');
    const endpoint = this.deps.runtimeEndpoints.current.find((e) => e.target === target.target);
    const tokens = last?.outcome === 'success' ? last.measured?.inputTokens : undefined;
    return {
      model: last?.outcome === 'success' ? last.model : '',
      weights: (last?.outcome === 'success' ? last.weights : undefined) ?? '',
      runtimeVersion: endpoint?.runtimeVersion() ?? '',
      driverVersion: this.deps.gpuFacts.driverVersions().join(','),
      promptTokens: tokens === undefined ? '' : String(tokens),
    };
  }

  collect(out: Emitter): void {
    const { runner } = this;
    out.emit(M.EVAL_RUNNING, {}, runner.running ? 1 : 0);
    out.emit(M.EVAL_QUEUED, {}, runner.queued.length);
    for (const [key, value] of runner.runs) {
      const [suite, target, trigger, result] = JSON.parse(key) as string[];
      out.emit(M.EVAL_RUNS, { suite, target, trigger, result } as Record<string, string>, value);
    }
    for (const entry of this.current()) this.emitEntry(out, entry);
    if (this.exportsTraffic) {
      const { runtimeEndpoints } = this.deps;
      this.deps.probeStore.emitTraffic(
        placedByTarget(out, (target) => runtimeEndpoints.placeOf(target)),
      );
    }
  }

  /** Entries of the targets read now, for the model each serves now (or last served). */
  private current(): Entry[] {
    const out: Entry[] = [];
    const all = this.runner.state.all();
    for (const target of this.runner.targetsNow()) {
      const mine = all.filter((e) => e.target === target.target);
      const model =
        this.observed(target).model ||
        mine.reduce<Entry | undefined>(
          (a, e) => (!a || e.last.atMs > a.last.atMs ? e : a),
          undefined,
        )?.model;
      out.push(...mine.filter((e) => e.model === model));
    }
    return out;
  }

  private emitEntry(out: Emitter, entry: Entry): void {
    const { last, baseline } = entry;
    const labels = {
      suite: entry.suite,
      target: entry.target,
      runtime: entry.runtime,
      model: entry.model,
    };
    const bounds = wilson(last.passRatio, last.cases, this.config.confidence);
    out.emit(M.EVAL_PASS_RATIO, labels, last.passRatio);
    out.emit(M.EVAL_PASS_RATIO_LOWER, labels, bounds.lower);
    out.emit(M.EVAL_PASS_RATIO_UPPER, labels, bounds.upper);
    out.emit(M.EVAL_BASELINE, labels, baseline.passRatio);
    out.emit(M.EVAL_CHANGE, labels, last.passRatio - baseline.passRatio);
    out.emit(M.EVAL_BASELINE_TIME, labels, baseline.atMs / 1000);
    for (const result of ['pass', 'fail', 'flaky'] as const)
      out.emit(M.EVAL_CASES, { ...labels, result }, last.counts[result]);
    out.emit(M.EVAL_DURATION, labels, last.durationS);
    out.emit(M.EVAL_LAST_RUN, labels, last.atMs / 1000);
    out.emit(
      M.EVAL_FINGERPRINT,
      {
        ...labels,
        weights: last.fingerprint.weights,
        runtime_version: last.fingerprint.runtimeVersion,
        driver_version: last.fingerprint.driverVersion,
        prompt_tokens: last.fingerprint.promptTokens,
        fingerprint: fingerprintId(last.fingerprint),
        trigger: last.trigger,
      },
      1,
    );
    if (!this.config.failing_cases.export) return;
    const ids = [
      ...last.failing.map((id) => [id, 'fail'] as const),
      ...last.flaky.map((id) => [id, 'flaky'] as const),
    ].slice(0, this.config.failing_cases.max);
    for (const [id, result] of ids)
      out.emit(M.EVAL_CASE_FAILING, { ...labels, case: id, result }, 1);
  }

  status(): SourceStatus {
    if (!this.started) return { state: 'starting', detail: 'not started' };
    if (this.problems.length > 0)
      return {
        state: 'failing',
        detail: 'suites could not be loaded',
        lines: this.problems,
        todo: 'fix the suite files as the lines above say; inferwatch check-config names every bad case',
      };
    const { state, suites, running, queued } = this.runner;
    const cases = suites.reduce((n, s) => n + s.cases.length, 0);
    const lines = this.current().map(describeEntry);
    for (const [key, outcome] of this.runner.lastIncomplete) {
      const [suite, target] = JSON.parse(key) as string[];
      lines.push(
        `${suite} on ${target}: last run incomplete (${outcome.reason}: ${outcome.detail})`,
      );
    }
    const problem = state.readError ?? state.writeError;
    const doing = running
      ? `; running ${running.suite.name} on ${running.target.target}${queued.length ? `, ${queued.length} queued` : ''}`
      : '';
    return {
      state: problem ? 'failing' : 'ok',
      detail: `${suites.length} suite${suites.length === 1 ? '' : 's'} (${cases} cases), state in ${state.path}${problem ? ` (${problem})` : ''}${doing}`,
      lines,
    };
  }
}

function describeEntry(e: Entry): string {
  const { last, baseline } = e;
  const passed = last.counts.pass;
  const when = new Date(last.atMs).toISOString().slice(0, 16).replace('T', ' ');
  return `${e.suite} on ${e.target} (${e.model}): ${passed}/${last.cases} passed, pass ratio ${last.passRatio.toFixed(3)} against baseline ${baseline.passRatio.toFixed(3)}, ${when} UTC (${last.trigger})`;
}
