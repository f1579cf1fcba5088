import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../agent/config/load.js';
import { createLogger } from '../../agent/core/logger.js';
import { builtinSuite } from '../../agent/eval/builtin.js';
import { EvalRunner } from '../../agent/eval/runner.js';
import { runSuite } from '../../agent/eval/run.js';
import { answer } from '../../demo/sim/toy-model.js';
import type { ProbeTarget } from '../../agent/probe/types.js';
import { changedParts, filledFrom, type Fingerprint } from '../../agent/eval/fingerprint.js';
import { judge } from '../../agent/eval/judge.js';
import { formatRun, verdictOf } from '../../agent/eval/report.js';
import { EvalStateFile, type RunSummary } from '../../agent/eval/state.js';
import { wilson } from '../../agent/eval/stats.js';
import { parseSuite, type Expectation } from '../../agent/eval/suite.js';
import { loadSuites } from '../../agent/eval/suites.js';

const expectation = (wanted: Record<string, unknown>): Expectation => {
  const parsed = parseSuite(JSON.stringify({ id: 'c', prompt: 'q', expect: wanted }), 't.jsonl');
  expect(parsed.problems).toEqual([]);
  return parsed.cases[0]!.expect;
};

describe('suite files', () => {
  it('the built-in suite passes the checks a user file passes', () => {
    const suite = builtinSuite();
    expect(suite.problems).toEqual([]);
    expect(suite.cases).toHaveLength(12);
    expect(new Set(suite.cases.map((c) => c.expect.kind))).toEqual(
      new Set(['number', 'regex', 'one_of', 'exact', 'json_schema']),
    );
  });

  it('names every bad case by file, line and id, and refuses the suite', () => {
    const lines = [
      '{"id":"ok","prompt":"What is 2+2?","expect":{"number":4}}',
      '',
      '{"id":"ok","prompt":"again","expect":{"number":4}}',
      'not json',
      '{"id":"bad regex","prompt":"q","expect":{"regex":"("}}',
      '{"id":"two-kinds","prompt":"q","expect":{"regex":"a","exact":"a"}}',
      '{"id":"no-question","expect":{"exact":"a"}}',
      '{"id":"both","prompt":"q","messages":[{"role":"user","content":"q"}],"expect":{"exact":"a"}}',
      '{"id":"last-not-user","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"expect":{"exact":"a"}}',
      '{"id":"schema","prompt":"q","expect":{"json_schema":{"type":"nonsense"}}}',
      '{"id":"tolerance","prompt":"q","expect":{"number":1,"tolerance":-1}}',
      '{"id":"extra","prompt":"q","expect":{"one_of":["a"]},"temperature":1}',
    ];
    const { problems } = parseSuite(lines.join('\n'), 'mine.jsonl');
    expect(problems).toEqual([
      'mine.jsonl:3 (case ok): the id is used by an earlier case',
      'mine.jsonl:4: not a JSON object',
      'mine.jsonl:5: id: must be 1 to 64 of A-Z, a-z, 0-9, ., _, : and -, starting with a letter or digit',
      'mine.jsonl:6 (case two-kinds): expect: needs exactly one of regex, exact, number, json_schema, one_of',
      'mine.jsonl:7 (case no-question): prompt: needs either prompt or messages',
      'mine.jsonl:8 (case both): prompt: needs either prompt or messages',
      'mine.jsonl:9 (case last-not-user): messages: the last message must be the user’s',
      expect.stringMatching(
        /^mine\.jsonl:10 \(case schema\): expect\.json_schema: not a JSON Schema this agent can check/,
      ),
      'mine.jsonl:11 (case tolerance): expect.tolerance: Too small: expected number to be >=0',
      'mine.jsonl:12 (case extra): (case): Unrecognized key: "temperature"',
    ]);
    expect(parseSuite('{"id":"r","prompt":"q","expect":{"regex":"("}}', 'f').problems).toEqual([
      'f:1 (case r): expect.regex: must be a valid regular expression',
    ]);
    expect(parseSuite('\n\n', 'empty.jsonl').problems).toEqual(['empty.jsonl: holds no case']);
  });

  it('a reformatted file is the same suite; a changed case is another', () => {
    const a = parseSuite('{"id":"x","prompt":"q","expect":{"number":4}}', 'a');
    const b = parseSuite('{ "expect": { "number": 4 }, "prompt": "q", "id": "x" }\n', 'b');
    const c = parseSuite('{"id":"x","prompt":"q","expect":{"number":5}}', 'c');
    expect(a.digest).toBe(
      parseSuite(' {"id":"x","prompt":"q","expect":{"number":4}}\n\n', 'a').digest,
    );
    expect(b.cases[0]?.id).toBe('x');
    expect(c.digest).not.toBe(a.digest);
  });

  it('the config names a suite file that cannot be read or holds bad cases, as check-config reports it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferwatch-suites-'));
    writeFileSync(join(dir, 'bad.jsonl'), '{"id":"a","prompt":"q","expect":{}}\n');
    const config = parseConfig({
      evaluation: {
        suites: [
          { name: 'missing', file: join(dir, 'missing.jsonl') },
          { name: 'bad', file: join(dir, 'bad.jsonl') },
        ],
      },
    }).evaluation;
    expect(loadSuites(config).problems).toEqual([
      `evaluation.suites.0.file: ${join(dir, 'missing.jsonl')} cannot be read (ENOENT)`,
      `evaluation.suites.1.file: ${join(dir, 'bad.jsonl')}:1 (case a): expect: needs exactly one of regex, exact, number, json_schema, one_of`,
    ]);
  });

  it('the config block refuses what it can check itself', () => {
    const problems = (evaluation: unknown) => {
      try {
        parseConfig({ evaluation });
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ schedule: 'every night' })).toEqual([
      expect.stringMatching(/^evaluation\.schedule: must be a cron expression/),
    ]);
    expect(problems({ suites: [{ name: 'builtin', file: 'x' }] })).toEqual([
      expect.stringMatching(/^evaluation\.suites\.0\.name: 'builtin' is the built-in suite/),
    ]);
    expect(problems({ suites: [{ name: 'a', file: 'x', models: ['('] }] })).toEqual([
      expect.stringMatching(
        /^evaluation\.suites\.0\.models\.0: must be a valid regular expression/,
      ),
    ]);
    expect(problems({ confidence: 0.8 })).toHaveLength(1);
    expect(problems({ timeout_ms: 120_000, max_run_s: 60 })).toEqual([
      expect.stringMatching(/^evaluation\.timeout_ms: must be less than max_run_s/),
    ]);
  });
});

describe('judging an answer', () => {
  it('regex: case-insensitive unless asked', () => {
    expect(judge(expectation({ regex: '\\btokyo\\b' }), 'It is Tokyo.')).toBe(true);
    expect(judge(expectation({ regex: '\\btokyo\\b', case_sensitive: true }), 'Tokyo')).toBe(false);
    expect(judge(expectation({ regex: '\\btokyo\\b' }), 'Kyoto')).toBe(false);
  });

  it('exact: whitespace around and inside does not count, letters do', () => {
    expect(judge(expectation({ exact: 'blue-harbor-42' }), '  blue-harbor-42\n')).toBe(true);
    expect(judge(expectation({ exact: 'a b' }), 'a\n  b')).toBe(true);
    expect(judge(expectation({ exact: 'blue-harbor-42' }), 'blue-harbor-42.')).toBe(false);
    expect(judge(expectation({ exact: 'Blue' }), 'blue')).toBe(false);
    expect(judge(expectation({ exact: 'Blue', case_sensitive: false }), 'blue')).toBe(true);
  });

  it('number: the last number by default, thousands separators read, within the tolerance', () => {
    expect(judge(expectation({ number: 12 }), '15% of 80 is 12.')).toBe(true);
    expect(judge(expectation({ number: 12, pick: 'first' }), '15% of 80 is 12.')).toBe(false);
    expect(judge(expectation({ number: 1234567 }), 'About 1,234,567')).toBe(true);
    expect(judge(expectation({ number: 3.14, tolerance: 0.01 }), 'pi is 3.1416')).toBe(true);
    expect(judge(expectation({ number: 3.14 }), 'pi is 3.1416')).toBe(false);
    expect(judge(expectation({ number: -5 }), 'It is -5')).toBe(true);
    expect(judge(expectation({ number: 42 }), 'forty-two')).toBe(false);
  });

  it('json_schema: the whole answer, a fenced block, or the outermost braces', () => {
    const e = expectation({
      json_schema: {
        type: 'object',
        required: ['name', 'year'],
        properties: { name: { const: 'Ada' }, year: { const: 1815 } },
      },
    });
    expect(judge(e, '{"name":"Ada","year":1815}')).toBe(true);
    expect(judge(e, 'Here it is:\n```json\n{"name": "Ada", "year": 1815}\n```')).toBe(true);
    expect(judge(e, 'Sure! {"name": "Ada", "year": 1815} Hope it helps.')).toBe(true);
    expect(judge(e, '{"name":"Ada","year":1816}')).toBe(false);
    expect(judge(e, '{"name":"Ada"}')).toBe(false);
    expect(judge(e, '{name: Ada}')).toBe(false);
  });

  it('one_of: quotes, emphasis and closing punctuation aside, any case', () => {
    const e = expectation({ one_of: ['negative', 'neg'] });
    expect(judge(e, '**Negative.**')).toBe(true);
    expect(judge(e, '"neg"')).toBe(true);
    expect(judge(e, 'It is negative')).toBe(false);
    expect(judge(e, 'positive')).toBe(false);
  });
});

describe('the confidence bound', () => {
  it('is the Wilson interval: exact at the ends, wide for few cases', () => {
    expect(wilson(1, 12, 0.95)).toEqual({ lower: expect.closeTo(0.7575, 4), upper: 1 });
    expect(wilson(0.5, 12, 0.95).upper).toBeCloseTo(0.7462, 4);
    expect(wilson(0.5, 12, 0.95).lower).toBeCloseTo(0.2538, 4);
    expect(wilson(0, 10, 0.95).lower).toBe(0);
    expect(wilson(0.9, 100, 0.99).upper).toBeLessThan(wilson(0.9, 10, 0.99).upper);
  });

  it('one flaky case of twelve is chance against a perfect baseline; a third failing is not', () => {
    const margin = 0.1;
    expect(wilson(11 / 12, 12, 0.95).upper).toBeGreaterThan(1 - margin);
    expect(wilson(10 / 12, 12, 0.95).upper).toBeGreaterThan(1 - margin);
    expect(wilson(8 / 12, 12, 0.95).upper).toBeLessThan(1 - margin);
  });
});

describe('fingerprints', () => {
  const fp = (over: Partial<Fingerprint> = {}): Fingerprint => ({
    model: 'm',
    weights: 'sha256:a2af6cc3eb7f',
    runtimeVersion: '0.11.0',
    driverVersion: '590.48.01',
    promptTokens: '27',
    ...over,
  });

  it('a part unknown on either side is not a change', () => {
    expect(changedParts(fp(), fp({ driverVersion: '' }))).toEqual([]);
    expect(changedParts(fp({ promptTokens: '' }), fp({ promptTokens: '31' }))).toEqual([]);
    expect(changedParts(fp(), fp({ runtimeVersion: '0.11.1', promptTokens: '31' }))).toEqual([
      'runtimeVersion',
      'promptTokens',
    ]);
    expect(filledFrom(fp(), fp({ driverVersion: '' })).driverVersion).toBe('590.48.01');
  });
});

describe('the state file', () => {
  const run = (passRatio: number, atMs: number, over: Partial<RunSummary> = {}): RunSummary => ({
    atMs,
    durationS: 3,
    trigger: 'change',
    fingerprint: {
      model: 'm',
      weights: 'w',
      runtimeVersion: '1',
      driverVersion: '2',
      promptTokens: '3',
    },
    suiteDigest: 'd1',
    cases: 12,
    passRatio,
    counts: { pass: Math.round(passRatio * 12), fail: 12 - Math.round(passRatio * 12), flaky: 0 },
    failing: [],
    flaky: [],
    ...over,
  });
  const where = { suite: 's', target: 't', runtime: 'vllm', model: 'm' };

  it('keeps the first run as the baseline across runs and restarts, anew when the suite changes, and on accept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferwatch-state-'));
    const state = EvalStateFile.inDir(join(dir, 'nested'));
    state.load();
    state.record(where, run(1, 1000));
    state.record(where, run(0.5, 2000));
    const again = EvalStateFile.inDir(join(dir, 'nested'));
    again.load();
    expect(again.get('s', 't', 'm')).toMatchObject({
      last: { passRatio: 0.5 },
      baseline: { passRatio: 1, atMs: 1000 },
    });
    again.record(where, run(0.75, 3000, { suiteDigest: 'd2' }));
    expect(again.get('s', 't', 'm')?.baseline.atMs).toBe(3000);
    again.record(where, run(0.5, 4000, { suiteDigest: 'd2' }));
    expect(again.accept((e) => e.target === 't').map((e) => e.baseline.atMs)).toEqual([4000]);
    // Read back, a baseline that is the last run is that run: nothing more to accept.
    const reread = EvalStateFile.inDir(join(dir, 'nested'));
    reread.load();
    expect(reread.accept(() => true)).toEqual([]);
    // The running agent sees what another process accepted.
    state.load();
    const writer = EvalStateFile.inDir(join(dir, 'nested'));
    writer.load();
    writer.record(where, run(1, 5000, { suiteDigest: 'd2' }));
    expect(state.reloadIfChanged()).toBe(true);
    expect(state.get('s', 't', 'm')?.last.atMs).toBe(5000);
  });

  it('a file it cannot read is reported and left as it was, never overwritten', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferwatch-state-'));
    writeFileSync(join(dir, 'evaluation.json'), '{"version": 99}');
    const state = EvalStateFile.inDir(dir);
    state.load();
    expect(state.readError).toMatch(/not an evaluation state file of this version/);
    state.record(where, run(1, 1000));
    expect(readFileSync(join(dir, 'evaluation.json'), 'utf8')).toBe('{"version": 99}');
  });
});

describe('the report for a person', () => {
  it('says the figures, the baseline, the verdict and the failing ids', () => {
    const base: RunSummary = {
      atMs: Date.UTC(2026, 11, 1, 3, 17),
      durationS: 14.2,
      trigger: 'change',
      fingerprint: {
        model: 'm',
        weights: '',
        runtimeVersion: '0.11.0',
        driverVersion: '590.48.01',
        promptTokens: '27',
      },
      suiteDigest: 'd',
      cases: 12,
      passRatio: 1,
      counts: { pass: 12, fail: 0, flaky: 0 },
      failing: [],
      flaky: [],
    };
    const now: RunSummary = {
      ...base,
      fingerprint: { ...base.fingerprint, runtimeVersion: '0.11.1' },
      passRatio: 0.5,
      counts: { pass: 6, fail: 6, flaky: 0 },
      failing: ['capital-japan', 'echo'],
    };
    expect(verdictOf(now, base, 0.95)).toBe('a regression (the alert would page)');
    expect(verdictOf({ ...now, passRatio: 11 / 12 }, base, 0.95)).toBe('within chance of it');
    expect(verdictOf(base, base, 0.95)).toBe('as good');
    expect(
      formatRun({ suite: 'builtin', target: 'vllm', runtime: 'vllm', model: 'm' }, now, base, 0.95),
    ).toBe(
      'builtin on vllm (vllm 0.11.1, m): 6 of 12 cases pass, pass ratio 0.500 (95% interval 0.254 to 0.746), 14.2 s\n' +
        '  baseline 1.000 (2026-12-01 03:17 UTC, runtime 0.11.0, driver 590.48.01): -0.500, a regression (the alert would page)\n' +
        '  failed: capital-japan, echo\n',
    );
  });
});

describe('when the runner runs', () => {
  const target: ProbeTarget = {
    target: 'vllm-a',
    runtime: 'vllm',
    url: 'http://127.0.0.1:1',
    headers: {},
    api: 'openai-chat',
    apiPinned: false,
    model: undefined,
    promptTokensCounted: 'all',
  };
  const setup = (evaluation: Record<string, unknown> = {}) => {
    let now = 0;
    let observed: Fingerprint = {
      model: 'qwen',
      weights: '/models/qwen',
      runtimeVersion: '0.11.0',
      driverVersion: '590.48.01',
      promptTokens: '27',
    };
    const asked: string[] = [];
    const config = parseConfig({ evaluation: { schedule: '', ...evaluation } }).evaluation;
    const suites = loadSuites(config).suites;
    const runner = new EvalRunner(
      config,
      suites,
      EvalStateFile.inDir(mkdtempSync(join(tmpdir(), 'inferwatch-runner-'))),
      { targets: () => [target], observed: () => observed },
      {
        clock: { monotonicMs: () => now, epochMs: () => 1_800_000_000_000 + now },
        logger: createLogger('error', { write: () => undefined }),
        ask: (_t, q) => {
          asked.push(q.prompt);
          return Promise.resolve({ outcome: 'answered', model: observed.model, text: '42' });
        },
        sleep: () => Promise.resolve(),
        every: () => () => undefined,
        cron: () => () => undefined,
      },
    );
    const drained = async () => {
      for (let i = 0; i < 100 && (runner.running || runner.queued.length); i++)
        await new Promise((r) => setImmediate(r));
    };
    return {
      runner,
      asked,
      drained,
      at: (ms: number) => (now = ms),
      observe: (over: Partial<Fingerprint>) => (observed = { ...observed, ...over }),
    };
  };

  it('a change must hold settle_s before its run; one that changes again starts the wait anew', async () => {
    const r = setup({ settle_s: 120 });
    r.runner.start();
    expect(r.runner.queued).toHaveLength(0);
    r.at(119_000);
    r.runner.tick();
    expect(r.runner.queued).toHaveLength(0);
    r.at(120_000);
    r.runner.tick();
    await r.drained();
    expect(r.asked).toHaveLength(12);

    r.observe({ runtimeVersion: '0.11.1' });
    r.at(200_000);
    r.runner.tick();
    r.observe({ runtimeVersion: '0.11.2' });
    r.at(300_000);
    r.runner.tick();
    r.at(410_000);
    r.runner.tick();
    expect(r.runner.running ?? r.runner.queued[0]).toBeUndefined();
    r.at(420_000);
    r.runner.tick();
    await r.drained();
    expect(r.asked).toHaveLength(24);
  });

  it('a part it cannot read is no change; a model first seen is', async () => {
    const r = setup({ settle_s: 0 });
    r.runner.start();
    await r.drained();
    expect(r.asked).toHaveLength(12);
    r.observe({ driverVersion: '', promptTokens: '' });
    r.runner.tick();
    await r.drained();
    expect(r.asked).toHaveLength(12);
    r.observe({ model: 'llama' });
    r.runner.tick();
    await r.drained();
    expect(r.asked).toHaveLength(24);
  });

  it('a suite for some models runs only on those, and waits while the model is unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferwatch-suites-'));
    writeFileSync(
      join(dir, 'qwen.jsonl'),
      '{"id":"a","prompt":"What is 40 + 2?","expect":{"number":42}}',
    );
    const r = setup({
      settle_s: 0,
      builtin_suite: false,
      suites: [{ name: 'qwen-only', file: join(dir, 'qwen.jsonl'), models: ['qwen.*'] }],
    });
    r.observe({ model: '' });
    r.runner.start();
    r.runner.scheduled();
    await r.drained();
    expect(r.asked).toHaveLength(0);
    r.observe({ model: 'llama' });
    r.runner.tick();
    r.runner.scheduled();
    await r.drained();
    expect(r.asked).toHaveLength(0);
    r.observe({ model: 'qwen3' });
    r.runner.tick();
    await r.drained();
    expect(r.asked).toEqual(['What is 40 + 2?']);
  });
});

describe('a run', () => {
  it('asks each case `repeats` times: right every time passes, never fails, both ways is flaky and counts by its share', async () => {
    const suite = builtinSuite();
    let sky = 0;
    const outcome = await runSuite(
      {
        suite: { name: 'builtin', ...suite, runtimes: [], models: [], repeats: 2 },
        target: { target: 't', runtime: 'vllm' } as ProbeTarget,
        trigger: 'manual',
        fingerprint: {
          model: 'm',
          weights: '',
          runtimeVersion: '',
          driverVersion: '',
          promptTokens: '',
        },
        startedAtMs: 0,
        done: {},
      },
      { caseIntervalMs: 0, maxRunMs: 60_000, maxTokens: 64, seed: 1 },
      {
        clock: { monotonicMs: () => 0, epochMs: () => 0 },
        sleep: () => Promise.resolve(),
        ask: (_t, q) => {
          const text = /sky/.test(q.prompt)
            ? ++sky % 2 === 0
              ? 'blue'
              : 'grey'
            : /Japan/.test(q.prompt)
              ? 'Kyoto'
              : answer(q.prompt);
          return Promise.resolve({ outcome: 'answered', model: 'm', text });
        },
      },
      () => undefined,
      new AbortController().signal,
    );
    expect(outcome.status).toBe('complete');
    if (outcome.status !== 'complete') return;
    expect(outcome.summary).toMatchObject({
      cases: 12,
      counts: { pass: 10, fail: 1, flaky: 1 },
      failing: ['capital-japan'],
      flaky: ['system-sky'],
    });
    expect(outcome.summary.passRatio).toBeCloseTo(10.5 / 12);
    expect(sky).toBe(2);
  });
});
