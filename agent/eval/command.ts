import { randomUUID } from 'node:crypto';
import type { Agent } from '../agent.js';
import type { AgentConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { HttpClient } from '../core/http.js';
import { stateDir } from '../core/state-dir.js';
import { ask, modelToAsk } from '../probe/run.js';
import { probeTargets } from '../probe/settings.js';
import { nodeStreaming, type StreamingHttp } from '../probe/transport.js';
import { evalSettings } from './collector.js';
import { formatAccepted, formatRun, verdictOf } from './report.js';
import { realTimers } from './timers.js';
import { runSuite } from './run.js';
import { EvalStateFile } from './state.js';
import { appliesTo, loadSuites } from './suites.js';

export interface EvalCommandWorld {
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly stream?: StreamingHttp;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface EvalCommandOptions {
  readonly target?: string | undefined;
  readonly suite?: string | undefined;
  readonly accept: boolean;
}

/**
 * `inferwatch eval`: runs the suites now against the runtimes the agent finds (or one) and
 * prints each run against the baseline the agent keeps; it writes nothing. Exit 0 when every
 * run completed within chance of its baseline, 1 otherwise. `--accept` makes each last run
 * the agent recorded its baseline (a deliberate change accepted) and runs nothing.
 */
export async function evalCommand(
  config: AgentConfig,
  agent: Agent,
  world: EvalCommandWorld,
  options: EvalCommandOptions,
  out: (text: string) => void,
): Promise<number> {
  const state = EvalStateFile.inDir(stateDir(config.state_dir));
  state.load();
  if (state.readError) {
    out(`inferwatch eval: ${state.readError}\n`);
    return 1;
  }
  const wanted = (e: { suite: string; target: string }) =>
    (options.suite === undefined || e.suite === options.suite) &&
    (options.target === undefined || e.target === options.target);
  if (options.accept) {
    const before = new Map(state.all().map((e) => [e, e.baseline]));
    const accepted = state.accept(wanted);
    if (state.writeError) {
      out(`inferwatch eval: ${state.writeError}\n`);
      return 1;
    }
    if (accepted.length === 0)
      out(`nothing to accept: no recorded run differs from its baseline in ${state.path}\n`);
    for (const entry of accepted) {
      const old = [...before].find(
        ([e]) => e.suite === entry.suite && e.target === entry.target && e.model === entry.model,
      )?.[1];
      if (old) out(formatAccepted(entry, old));
    }
    return 0;
  }

  const { suites, problems } = loadSuites(config.evaluation);
  if (problems.length > 0) {
    out(`${problems.join('\n')}\n`);
    return 2;
  }
  await agent.refreshRuntimes();
  const targets = probeTargets(agent.runtimeEndpoints.current, config.probe).filter(
    (t) => options.target === undefined || t.target === options.target,
  );
  const chosen = suites.filter((s) => options.suite === undefined || s.name === options.suite);
  if (targets.length === 0 || chosen.length === 0) {
    out(
      targets.length === 0
        ? `no runtime to evaluate${options.target ? ` named ${options.target}` : ''}; runtimes found: ${agent.runtimeEndpoints.current.map((e) => e.target).join(', ') || 'none'}\n`
        : `no suite named ${options.suite}; suites: ${suites.map((s) => s.name).join(', ')}\n`,
    );
    return 1;
  }
  const settings = evalSettings(config);
  const probeWorld = {
    http: world.http,
    stream: world.stream ?? nodeStreaming,
    clock: world.clock,
    requestId: randomUUID,
  };
  const cancel = new AbortController();
  let worse = 0;
  for (const target of targets) {
    const found = await modelToAsk(target, settings, probeWorld);
    if ('outcome' in found) {
      out(`${target.target}: not evaluated (${found.reason}: ${found.detail})\n`);
      worse++;
      continue;
    }
    const runtimeVersion =
      agent.runtimeEndpoints.current.find((e) => e.target === target.target)?.runtimeVersion() ??
      '';
    for (const suite of chosen) {
      if (!appliesTo(suite, target, found.model)) continue;
      out(`running ${suite.name} (${suite.cases.length} cases) on ${target.target}...\n`);
      const outcome = await runSuite(
        {
          suite,
          target,
          trigger: 'manual',
          fingerprint: {
            model: found.model,
            weights: '',
            runtimeVersion,
            driverVersion: '',
            promptTokens: '',
          },
          startedAtMs: world.clock.epochMs(),
          done: {},
        },
        {
          caseIntervalMs: config.evaluation.case_interval_ms,
          maxRunMs: config.evaluation.max_run_s * 1000,
          maxTokens: config.evaluation.max_tokens,
          seed: config.evaluation.seed,
        },
        {
          ask: (t, q, c) => ask(t, q, settings, probeWorld, c),
          clock: world.clock,
          sleep: world.sleep ?? realTimers.sleep,
        },
        () => undefined,
        cancel.signal,
      );
      const where = { suite: suite.name, target: target.target, runtime: target.runtime };
      if (outcome.status === 'incomplete') {
        out(
          `${suite.name} on ${target.target}: incomplete (${outcome.reason}: ${outcome.detail})\n`,
        );
        worse++;
        continue;
      }
      const entry = state.get(suite.name, target.target, outcome.model);
      const baseline = entry?.baseline.suiteDigest === suite.digest ? entry.baseline : undefined;
      out(
        formatRun(
          { ...where, model: outcome.model },
          outcome.summary,
          baseline,
          config.evaluation.confidence,
        ),
      );
      if (
        verdictOf(outcome.summary, baseline, config.evaluation.confidence).startsWith(
          'a regression',
        )
      )
        worse++;
    }
  }
  return worse === 0 ? 0 : 1;
}

/** What `inferwatch doctor` says about the evaluation: it runs only under `inferwatch run`. */
export function evaluationSummary(config: AgentConfig): string {
  const e = config.evaluation;
  if (!e.enabled) return 'evaluation: switched off in the config\n';
  const { suites, problems } = loadSuites(e);
  const state = EvalStateFile.inDir(stateDir(config.state_dir));
  state.load();
  const when = [
    e.on_change ? `when a model or what is under it changes (after ${e.settle_s} s)` : '',
    e.schedule ? `on the schedule '${e.schedule}'` : '',
  ].filter(Boolean);
  const lines = [
    `evaluation: in 'inferwatch run', ${suites.length} suite${suites.length === 1 ? '' : 's'} (${suites.map((s) => `${s.name}: ${s.cases.length} cases`).join(', ')}) run ${when.join(' and ') || 'only on demand'}; 'inferwatch eval' runs them now`,
    `  state: ${state.path}${state.readError ? ` (${state.readError})` : ` (${state.all().length} suite and model pairs recorded)`}`,
    ...problems.map((p) => `  problem: ${p}`),
  ];
  return `${lines.join('\n')}\n`;
}
