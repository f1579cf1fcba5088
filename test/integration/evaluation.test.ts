import { vllm } from '../../agent/collectors/runtimes/adapters/vllm.js';
/**
 * The evaluation against a simulated vLLM whose model can be made worse on demand: real HTTP,
 * the probe's request path, a real state file. The runner's clock and timers are driven by the
 * test (no sleeping for schedules); the runtime answers at its own pace.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeEndpoint } from '../../agent/shared/runtime-endpoints.js';
import type { AgentConfig } from '../../agent/config/load.js';
import { parseConfig } from '../../agent/config/load.js';
import { systemClock } from '../../agent/core/clock.js';
import { createLogger } from '../../agent/core/logger.js';
import { builtinSuite } from '../../agent/eval/builtin.js';
import { EvalCollector } from '../../agent/eval/collector.js';
import * as M from '../../agent/eval/metrics.js';
import { STATE_FILE } from '../../agent/eval/state.js';
import {
  PROBE_INPUT_TOKENS_TOTAL,
  PROBE_OUTPUT_TOKENS_TOTAL,
  PROBE_REQUESTS,
} from '../../agent/probe/metrics.js';
import { seededRandom } from '../../demo/sim/random.js';
import { SimulatedRuntime } from '../../demo/sim/runtime.js';
import { collectorDeps } from '../helpers/collector-deps.js';
import { MEASURED, probeResult } from '../helpers/probe-result.js';
import { Recorder } from '../helpers/recorder.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PROMPT_MARKER = 'PLANTED-PROMPT-7f3a';
const ANSWER_MARKER = 'planted-answer-91c2';

const runtimes: SimulatedRuntime[] = [];
const collectors: EvalCollector[] = [];
afterEach(async () => {
  await Promise.all(collectors.splice(0).map((c) => c.stop()));
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});

interface Node {
  readonly runtime: SimulatedRuntime;
  readonly dir: string;
  readonly logs: string[];
  config(extra?: Record<string, unknown>): AgentConfig;
}

async function node(): Promise<Node> {
  const runtime = new SimulatedRuntime({ kind: 'vllm', model: MODEL, random: seededRandom(7) });
  runtimes.push(runtime);
  await runtime.listen();
  const dir = mkdtempSync(join(tmpdir(), 'inferwatch-eval-'));
  // A suite of the user's own: its prompt and the answer it draws carry planted markers.
  writeFileSync(
    join(dir, 'support.jsonl'),
    [
      JSON.stringify({
        id: 'echo-marker',
        prompt: `Repeat exactly this and nothing else: ${ANSWER_MARKER}`,
        expect: { exact: ANSWER_MARKER },
      }),
      JSON.stringify({
        id: 'capital',
        messages: [
          { role: 'system', content: `Context ${PROMPT_MARKER}. Answer with one word.` },
          { role: 'user', content: 'What is the capital of Japan? Answer with one word.' },
        ],
        expect: { one_of: ['Tokyo'] },
      }),
    ].join('\n'),
  );
  return {
    runtime,
    dir,
    logs: [],
    config: (extra = {}) =>
      parseConfig({
        state_dir: join(dir, 'state'),
        evaluation: {
          settle_s: 0,
          case_interval_ms: 0,
          schedule: '',
          suites: [{ name: 'support', file: join(dir, 'support.jsonl') }],
          ...extra,
        },
      }),
  };
}

/** A collector wired to one simulated runtime, as the agent would wire it. */
function collectorFor(n: Node, config: AgentConfig, driver = '590.48.01') {
  const logger = createLogger('debug', { write: (line: string) => void n.logs.push(line) });
  const deps = collectorDeps({ logger, clock: systemClock });
  const endpoint: RuntimeEndpoint = {
    runtime: 'vllm',
    generation: vllm.generation,
    target: 'vllm-a',
    url: n.runtime.url,
    probeUrl: n.runtime.url,
    headers: {},
    promptTokensCounted: 'all',
    runtimeVersion: () => n.runtime.version,
    readLoad: () => Promise.resolve({}),
  };
  deps.runtimeEndpoints.set([endpoint]);
  // What the GPU view saw in its last scrape.
  const gpu = (driverVersion: string) => deps.gpuFacts.setDriverVersions([driverVersion]);
  gpu(driver);
  // The probe has answered: the model and its prompt's token count are known.
  const probed = (tokens: number, weights = `/models/${MODEL}`) =>
    deps.probeStore.record(
      probeResult({
        target: 'vllm-a',
        runtime: 'vllm',
        model: MODEL,
        weights,
        outcome: 'success',
        measured: { ...MEASURED, inputTokens: tokens },
      }),
    );
  probed(27);
  const collector = new EvalCollector(config, deps, {
    timers: { every: () => () => undefined, cron: () => () => undefined },
  });
  collectors.push(collector);
  return { collector, deps, gpu, probed };
}

async function settled(collector: EvalCollector): Promise<void> {
  collector.runner.tick();
  for (let i = 0; i < 400 && (collector.runner.running || collector.runner.queued.length); i++)
    await new Promise((r) => setTimeout(r, 25));
  expect(collector.runner.running).toBeUndefined();
}

function scrape(collector: EvalCollector): Recorder {
  const out = new Recorder();
  collector.collect(out);
  return out;
}

const labels = (suite: string) => ({ suite, target: 'vllm-a', runtime: 'vllm', model: MODEL });

describe('evaluation against a simulated runtime', () => {
  it('a model first seen is evaluated and becomes its own baseline; repeated runs of a steady model stay at it', async () => {
    const n = await node();
    const { collector } = collectorFor(n, n.config({ repeats: 2 }));
    await collector.start();
    await settled(collector);
    let out = scrape(collector);
    expect(out.value(M.EVAL_PASS_RATIO, labels('builtin'))).toBe(1);
    expect(out.value(M.EVAL_BASELINE, labels('builtin'))).toBe(1);
    expect(out.value(M.EVAL_PASS_RATIO, labels('support'))).toBe(1);
    expect(out.value(M.EVAL_CASES, { ...labels('builtin'), result: 'pass' })).toBe(12);
    expect(
      out.value(M.EVAL_RUNS, {
        suite: 'builtin',
        target: 'vllm-a',
        trigger: 'change',
        result: 'complete',
      }),
    ).toBe(1);
    const info = out.samples.find(
      (s) => s.def === M.EVAL_FINGERPRINT && s.labels.suite === 'builtin',
    );
    expect(info?.labels).toMatchObject({
      runtime_version: '0.11.0',
      driver_version: '590.48.01',
      prompt_tokens: '27',
      trigger: 'change',
    });
    // Nothing changed: no new run.
    await settled(collector);
    expect(collector.runner.runs.size).toBe(2);
    // The schedule, three nights over: the same answers, the baseline unmoved, no regression.
    for (let night = 0; night < 3; night++) {
      collector.runner.scheduled();
      await settled(collector);
    }
    out = scrape(collector);
    expect(
      out.value(M.EVAL_RUNS, {
        suite: 'builtin',
        target: 'vllm-a',
        trigger: 'schedule',
        result: 'complete',
      }),
    ).toBe(3);
    expect(out.value(M.EVAL_PASS_RATIO, labels('builtin'))).toBe(1);
    expect(out.value(M.EVAL_PASS_RATIO_UPPER, labels('builtin'))).toBe(1);
    expect(out.value(M.EVAL_CHANGE, labels('builtin'))).toBe(0);
  }, 30_000);

  it('a driver upgrade and a chat template change start runs; an upgrade that makes the model worse drops the pass ratio below its baseline beyond chance, naming the failing cases', async () => {
    const n = await node();
    const { collector, gpu, probed } = collectorFor(n, n.config());
    await collector.start();
    await settled(collector);
    gpu('595.58.03');
    await settled(collector);
    let out = scrape(collector);
    expect(
      out.value(M.EVAL_RUNS, {
        suite: 'builtin',
        target: 'vllm-a',
        trigger: 'change',
        result: 'complete',
      }),
    ).toBe(2);
    expect(out.value(M.EVAL_PASS_RATIO, labels('builtin'))).toBe(1);
    expect(
      out.samples.find((s) => s.def === M.EVAL_FINGERPRINT && s.labels.suite === 'builtin')?.labels
        .driver_version,
    ).toBe('595.58.03');

    // A chat template change: the probe's fixed prompt now counts other tokens.
    probed(31);
    await settled(collector);
    expect(
      scrape(collector).value(M.EVAL_RUNS, {
        suite: 'builtin',
        target: 'vllm-a',
        trigger: 'change',
        result: 'complete',
      }),
    ).toBe(3);
    // Other weights under the same name (another snapshot, a re-pulled tag).
    probed(31, `/models/${MODEL}-snapshot-2`);
    await settled(collector);
    expect(
      scrape(collector).value(M.EVAL_RUNS, {
        suite: 'builtin',
        target: 'vllm-a',
        trigger: 'change',
        result: 'complete',
      }),
    ).toBe(4);

    n.runtime.upgradeDegraded();
    // The runtime's new version is what the runner sees change.
    await settled(collector);
    out = scrape(collector);
    expect(out.value(M.EVAL_PASS_RATIO, labels('builtin'))).toBeCloseTo(2 / 12);
    expect(out.value(M.EVAL_BASELINE, labels('builtin'))).toBe(1);
    expect(out.value(M.EVAL_PASS_RATIO_UPPER, labels('builtin'))).toBeLessThan(0.9);
    expect(out.value(M.EVAL_CHANGE, labels('builtin'))).toBeCloseTo(2 / 12 - 1);
    const failing = out.samples
      .filter((s) => s.def === M.EVAL_CASE_FAILING && s.labels.suite === 'builtin')
      .map((s) => s.labels.case);
    expect(failing).toHaveLength(10);
    expect(failing).toContain('capital-japan');
    expect(failing).not.toContain('add');
    // Every family the evaluation declares is written by a real run.
    expect(M.EVAL_METRICS.filter((def) => !out.samples.some((s) => s.def === def))).toEqual([]);
    // The user's suite: its echo case now answers with a dot and spaces.
    expect(out.value(M.EVAL_PASS_RATIO, labels('support'))).toBe(0);
    expect(
      out.samples.find((s) => s.def === M.EVAL_FINGERPRINT && s.labels.suite === 'builtin')?.labels
        .runtime_version,
    ).toBe('0.11.1');
  }, 30_000);

  it('a restart keeps the baseline, and resumes a run cut short where it stopped', async () => {
    const n = await node();
    const config = n.config({ builtin_suite: true, suites: [] });
    const first = collectorFor(n, config);
    await first.collector.start();
    await settled(first.collector);
    n.runtime.upgradeDegraded();
    first.collector.runner.tick();
    // Stop after a few cases of the run the upgrade started.
    const stateFile = join(n.dir, 'state', STATE_FILE);
    for (let i = 0; i < 400; i++) {
      const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as {
        inProgress?: { results: Record<string, unknown> };
      };
      if (Object.keys(saved.inProgress?.results ?? {}).length >= 3) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await first.collector.stop();
    const kept = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      inProgress: { results: Record<string, unknown> };
    };
    const done = Object.keys(kept.inProgress.results).length;
    expect(done).toBeGreaterThanOrEqual(3);
    expect(done).toBeLessThan(12);

    const before = new Map(n.runtime.asked);
    const second = collectorFor(n, config);
    await second.collector.start();
    await settled(second.collector);
    const out = scrape(second.collector);
    expect(out.value(M.EVAL_BASELINE, labels('builtin'))).toBe(1);
    expect(out.value(M.EVAL_PASS_RATIO, labels('builtin'))).toBeCloseTo(2 / 12);
    // Only the cases left were asked again, each once. The one the stop cut short may also
    // land late, whenever it does: counted by prompt, it is told apart from any other.
    const askedAgain = builtinSuite().cases.map((c) => {
      const prompt = c.messages.findLast((m) => m.role === 'user')?.content ?? '';
      return { id: c.id, times: (n.runtime.asked.get(prompt) ?? 0) - (before.get(prompt) ?? 0) };
    });
    // Each case asks its own question, so a prompt names one case.
    expect(new Set(builtinSuite().cases.map((c) => c.messages.at(-1)?.content)).size).toBe(12);
    const finished = new Set(Object.keys(kept.inProgress.results));
    expect(askedAgain.filter((c) => finished.has(c.id) && c.times !== 0)).toEqual([]);
    const left = askedAgain.filter((c) => !finished.has(c.id));
    expect(left).toHaveLength(12 - done);
    expect(left.filter((c) => c.times < 1 || c.times > 2)).toEqual([]);
    expect(left.filter((c) => c.times === 2).length).toBeLessThanOrEqual(1);
    expect(n.logs.join('\n')).toContain('evaluation resumed');
  }, 30_000);

  it('a runtime that answers with errors leaves the run incomplete, counted and retried later, the last figures kept', async () => {
    const n = await node();
    const { collector } = collectorFor(n, n.config({ suites: [] }));
    await collector.start();
    await settled(collector);
    n.runtime.engine.failing = true;
    n.runtime.upgradeDegraded();
    await settled(collector);
    const out = scrape(collector);
    expect(
      out.value(M.EVAL_RUNS, {
        suite: 'builtin',
        target: 'vllm-a',
        trigger: 'change',
        result: 'incomplete',
      }),
    ).toBe(1);
    expect(out.value(M.EVAL_PASS_RATIO, labels('builtin'))).toBe(1);
    expect(collector.status().lines?.join('\n')).toMatch(/incomplete \(errors: case add: http_5xx/);
    // Not tried again before retry_after_s.
    await settled(collector);
    expect(collector.runner.runs.size).toBe(2);
  }, 30_000);

  it("its requests count as synthetic traffic, as the probe's do, exported by it when the probe is off", async () => {
    const n = await node();
    const config = parseConfig({
      ...n.config(),
      probe: { enabled: false },
      evaluation: { ...n.config().evaluation, suites: [] },
    });
    const { collector } = collectorFor(n, config);
    expect(collector.metrics).toContain(PROBE_REQUESTS);
    await collector.start();
    await settled(collector);
    const out = scrape(collector);
    const traffic = { runtime: 'vllm', target: 'vllm-a', model: MODEL };
    // The probe run the test recorded, and the suite's twelve cases.
    expect(out.value(PROBE_REQUESTS, traffic)).toBe(1 + 12);
    expect(out.value(PROBE_OUTPUT_TOKENS_TOTAL, traffic)).toBeGreaterThanOrEqual(16 + 12);
    expect(out.value(PROBE_INPUT_TOKENS_TOTAL, traffic)).toBeGreaterThan(27 + 12 * 12);
    // With the probe on, the probe's collector exports them (once).
    expect(collectorFor(n, n.config()).collector.metrics).not.toContain(PROBE_REQUESTS);
  }, 30_000);

  it('no prompt or answer reaches the logs, the metrics or the state file', async () => {
    const n = await node();
    const { collector } = collectorFor(n, n.config());
    await collector.start();
    await settled(collector);
    n.runtime.upgradeDegraded();
    await settled(collector);
    const out = scrape(collector);
    const everything = [
      n.logs.join('\n'),
      JSON.stringify(out.samples),
      readFileSync(join(n.dir, 'state', STATE_FILE), 'utf8'),
      JSON.stringify(collector.status()),
    ].join('\n');
    expect(everything).toContain('echo-marker');
    for (const marker of [PROMPT_MARKER, ANSWER_MARKER, 'Tokyo', 'Osaka', 'capital of Japan'])
      expect(everything).not.toContain(marker);
  }, 30_000);
});
