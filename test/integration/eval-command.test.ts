/**
 * `inferwatch eval` and `check-config` on evaluation suites, as a user runs them: the built
 * agent as a process, against a simulated vLLM served from this test.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { EvalStateFile, type RunSummary } from '../../agent/eval/state.js';
import { builtinSuite } from '../../agent/eval/builtin.js';
import { seededRandom } from '../../demo/sim/random.js';
import { SimulatedRuntime } from '../../demo/sim/runtime.js';
import { MAIN, tempDir } from '../helpers/agent-process.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

async function inferwatch(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      timeout: 30_000,
      env: { PATH: '/usr/bin:/bin' },
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { status: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const runtimes: SimulatedRuntime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});

async function setup() {
  const runtime = new SimulatedRuntime({ kind: 'vllm', model: MODEL, random: seededRandom(3) });
  runtimes.push(runtime);
  await runtime.listen();
  const dir = tempDir();
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `
state_dir: ${join(dir, 'state')}
collectors:
  nvidia_smi: { enabled: false }
  dcgm: { enabled: false }
  runtimes:
    discovery: { enabled: false }
    targets: [{ name: vllm-a, kind: vllm, url: ${runtime.url} }]
evaluation:
  case_interval_ms: 0
`,
  );
  return { runtime, dir, config };
}

const summary = (passRatio: number, atMs: number): RunSummary => ({
  atMs,
  durationS: 2,
  trigger: 'change',
  fingerprint: {
    model: MODEL,
    weights: MODEL,
    runtimeVersion: '0.11.0',
    driverVersion: '',
    promptTokens: '27',
  },
  suiteDigest: builtinSuite().digest,
  cases: 12,
  passRatio,
  counts: { pass: Math.round(passRatio * 12), fail: 12 - Math.round(passRatio * 12), flaky: 0 },
  failing: [],
  flaky: [],
});

describe('inferwatch eval', () => {
  it('runs the suites now and compares each with the baseline the agent keeps: exit 0 when as good, 1 after a regression', async () => {
    const { runtime, dir, config } = await setup();
    let r = await inferwatch(['eval', '--config', config]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('running builtin (12 cases) on vllm-a...');
    expect(r.stdout).toMatch(
      /builtin on vllm-a \(vllm 0\.11\.0, meta-llama\/Llama-3\.1-8B-Instruct\): 12 of 12 cases pass, pass ratio 1\.000/,
    );
    expect(r.stdout).toContain('no baseline yet');

    const state = EvalStateFile.inDir(join(dir, 'state'));
    state.load();
    const where = { suite: 'builtin', target: 'vllm-a', runtime: 'vllm', model: MODEL };
    state.record(where, summary(1, Date.UTC(2026, 11, 1, 3, 17)));
    runtime.upgradeDegraded();
    r = await inferwatch(['eval', '--config', config, '--target', 'vllm-a']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/2 of 12 cases pass, pass ratio 0\.167/);
    expect(r.stdout).toContain(
      '  baseline 1.000 (2026-12-01 03:17 UTC, runtime 0.11.0): -0.833, a regression (the alert would page)',
    );
    expect(r.stdout).toMatch(/ {2}failed: subtract, percent, week, capital-japan/);
    // The command writes nothing: the agent's record is as it was.
    const after = EvalStateFile.inDir(join(dir, 'state'));
    after.load();
    expect(after.get('builtin', 'vllm-a', MODEL)?.last.passRatio).toBe(1);
  }, 60_000);

  it('--accept makes the last recorded runs the baselines; an unknown suite or target says what there is', async () => {
    const { dir, config } = await setup();
    const state = EvalStateFile.inDir(join(dir, 'state'));
    state.load();
    const where = { suite: 'builtin', target: 'vllm-a', runtime: 'vllm', model: MODEL };
    state.record(where, summary(1, Date.UTC(2026, 11, 1, 3, 17)));
    state.record(where, summary(0.5, Date.UTC(2026, 11, 2, 9, 0)));
    let r = await inferwatch(['eval', '--config', config, '--accept', '--suite', 'builtin']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `accepted: builtin on vllm-a (${MODEL}): baseline 1.000 -> 0.500 (the run of 2026-12-02 09:00 UTC)\n`,
    );
    r = await inferwatch(['eval', '--config', config, '--accept']);
    expect(r.stdout).toContain('nothing to accept');

    r = await inferwatch(['eval', '--config', config, '--suite', 'nope']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('no suite named nope; suites: builtin\n');
    r = await inferwatch(['eval', '--config', config, '--target', 'other']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('no runtime to evaluate named other; runtimes found: vllm-a\n');
    r = await inferwatch(['once', '--accept']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--suite and --accept are for the eval command');
  }, 60_000);

  it('check-config refuses a suite file with bad cases, naming field, file, line and case', async () => {
    const dir = tempDir();
    const suite = join(dir, 'support.jsonl');
    writeFileSync(
      suite,
      '{"id":"refund","prompt":"How long do refunds take?","expect":{"regex":"14 days"}}\n{"id":"ship","prompt":"q","expect":{"one_of":[]}}\n',
    );
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `evaluation:\n  suites: [{ name: support, file: ${suite} }]\n`);
    const r = await inferwatch(['check-config', config]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `evaluation.suites.0.file: ${suite}:2 (case ship): expect.one_of: Too small: expected array to have >=1 items`,
    );
  }, 30_000);
});
