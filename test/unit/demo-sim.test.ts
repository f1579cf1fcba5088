import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinSuite } from '../../agent/eval/builtin.js';
import { judge } from '../../agent/eval/judge.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CANARIES, DEFAULT_LATENCY_PROMPT } from '../../agent/probe/canaries.js';
import { mapSglang } from '../../agent/collectors/runtimes/adapters/sglang.js';
import { mapVllm } from '../../agent/collectors/runtimes/adapters/vllm.js';
import { CONCEPTS } from '../../agent/collectors/runtimes/reading.js';
import { parseExposition } from '../../agent/core/prom-text.js';
import { InferenceEngine } from '../../demo/sim/engine.js';
import { renderMetrics } from '../../demo/sim/exposition.js';
import { Histogram } from '../../demo/sim/histogram.js';
import { SimulatedNode } from '../../demo/sim/node.js';
import { seededRandom } from '../../demo/sim/random.js';
import { answer, promptTokenCount, tokens } from '../../demo/sim/toy-model.js';
import { tempDir } from '../helpers/agent-process.js';

const engine = (requestsPerSecond = 4) =>
  new InferenceEngine({ requestsPerSecond, maxConcurrency: 64, random: seededRandom(7) });

function counters(e: InferenceEngine) {
  return [e.promptTokens, e.generationTokens, e.preemptions, ...Object.values(e.finished)];
}

describe('the simulated engine', () => {
  it('serves users: counters only grow, gauges stay in range', () => {
    const e = engine();
    let before = counters(e);
    for (let i = 0; i < 400; i++) {
      e.advance(0.25);
      const now = counters(e);
      now.forEach((v, k) => expect(v).toBeGreaterThanOrEqual(before[k] as number));
      before = now;
      expect(e.running).toBeLessThanOrEqual(64);
      expect(e.kvCacheUsage).toBeGreaterThanOrEqual(0);
      expect(e.kvCacheUsage).toBeLessThanOrEqual(1);
    }
    // 100 s at about 4 requests a second.
    const finished = Object.values(e.finished).reduce((a, b) => a + b, 0);
    expect(finished).toBeGreaterThan(250);
    expect(finished).toBeLessThan(550);
    expect(e.finished.error).toBe(0);
    expect(e.waiting).toBe(0);
  });

  it('saturated: a queue above the backlog threshold, a full KV cache, preemptions, slow first tokens', () => {
    const e = engine();
    e.saturated = true;
    const slowBefore = e.ttft.lines('t', '').find((l) => l.includes('le="2.5"'));
    for (let i = 0; i < 40; i++) e.advance(0.25);
    expect(e.waiting).toBeGreaterThan(64);
    expect(e.kvCacheUsage).toBeGreaterThan(0.95);
    expect(e.preemptions).toBeGreaterThan(0);
    const [atThreshold, count] = [
      e.ttft.lines('t', '').find((l) => l.includes('le="2.5"')),
      e.ttft.lines('t', '').find((l) => l.startsWith('t_count')),
    ].map((l) => Number(l?.split(' ').pop()));
    expect(slowBefore).toBe('t_bucket{le="2.5"} 0');
    expect(atThreshold as number).toBeLessThan((count as number) * 0.5);
  });

  it('failing: every request finishes as an error', () => {
    const e = engine();
    e.failing = true;
    for (let i = 0; i < 40; i++) e.advance(0.25);
    expect(e.finished.error).toBeGreaterThan(0);
    expect(e.finished.stop + e.finished.length + e.finished.abort).toBe(0);
  });
});

describe('the simulated runtimes', () => {
  it("speak vLLM's and SGLang's metric names: the real adapters find every concept", () => {
    const e = engine();
    for (let i = 0; i < 40; i++) e.advance(0.25);
    const vllm = mapVllm(parseExposition(renderMetrics('vllm', e, 'org/model')), {}, 'vllm');
    const sglang = mapSglang(
      parseExposition(renderMetrics('sglang', e, 'org/model')),
      { maxConcurrency: 64 },
      'sglang',
    );
    for (const reading of [vllm, sglang]) {
      expect(reading.skippedLines).toBe(0);
      expect(reading.models).toEqual(['org/model']);
    }
    // vLLM does not report its concurrency limit; SGLang does, through /server_info.
    expect(CONCEPTS.filter((c) => !vllm.concepts.has(c))).toEqual(['max_concurrency']);
    // SGLang has no prefill and decode split per request, and the simulated one runs without
    // --collect-tokens-histogram, the option its length histograms need.
    expect(CONCEPTS.filter((c) => !sglang.concepts.has(c))).toEqual([
      'request_phases',
      'request_lengths',
    ]);
  });
});

describe('the toy model', () => {
  it('answers every built-in canary right, and wrong when told to', () => {
    for (const canary of DEFAULT_CANARIES) {
      expect(answer(canary.prompt), canary.name).toMatch(new RegExp(canary.expect, 'i'));
      expect(answer(canary.prompt, 'wrong'), canary.name).not.toMatch(
        new RegExp(canary.expect, 'i'),
      );
      // A degraded model still passes the canaries: the regression only a suite catches.
      expect(answer(canary.prompt, 'degraded'), canary.name).toMatch(
        new RegExp(canary.expect, 'i'),
      );
    }
  });

  it('answers the built-in evaluation suite right; degraded, it fails most of it', () => {
    const suite = builtinSuite();
    const question = (c: (typeof suite.cases)[number]) => c.messages.at(-1)?.content ?? '';
    for (const c of suite.cases) expect(judge(c.expect, answer(question(c))), c.id).toBe(true);
    const degraded = suite.cases.filter((c) => judge(c.expect, answer(question(c), 'degraded')));
    expect(degraded.map((c) => c.id)).toEqual(['add', 'multiply']);
  });

  it("fills the latency probe's tokens, and cuts at max_tokens", () => {
    const out = tokens(answer(DEFAULT_LATENCY_PROMPT), 16);
    expect(out.tokens).toHaveLength(16);
    expect(out.truncated).toBe(true);
    expect(out.tokens.join('')).toBe('1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16');
    expect(tokens('42', 16)).toEqual({ tokens: ['42'], truncated: false });
  });

  it('counts the same prompt differently under another tokenizer', () => {
    expect(promptTokenCount(DEFAULT_LATENCY_PROMPT, 1.3, true)).toBeGreaterThan(
      promptTokenCount(DEFAULT_LATENCY_PROMPT, 1, true),
    );
  });
});

describe('the simulated histogram', () => {
  it('is cumulative, with +Inf equal to the count', () => {
    const h = new Histogram([0.1, 1]);
    h.observe(0.05);
    h.observe(0.5, 3);
    h.observe(5);
    expect(h.lines('x', 'a="b"')).toEqual([
      'x_bucket{a="b",le="0.1"} 1',
      'x_bucket{a="b",le="1"} 4',
      'x_bucket{a="b",le="+Inf"} 5',
      'x_sum{a="b"} 6.55',
      'x_count{a="b"} 5',
    ]);
  });
});

describe('the simulated node', () => {
  it('injects incidents where asked, refuses what it does not have, and clear() heals it', async () => {
    const node = await SimulatedNode.start({ name: 'n', dir: join(tempDir(), 'n'), gpus: 2 });
    try {
      const control = () => readFileSync(node.nvidiaSmiControl, 'utf8');
      expect(node.inject('gpu-lost')).toMatchObject({ incident: 'gpu-lost', gpu: 1 });
      expect(control()).toMatch(/^lose-gpu 1$/m);
      expect(readFileSync(node.kernelLog, 'utf8')).toContain('NVRM: Xid (PCI:0000:11:00): 79,');
      expect(() => node.inject('xid', { gpu: 2 })).toThrow('no GPU 2: this node has GPUs 0 to 1');
      expect(() => node.inject('saturation', { target: 'tgi' })).toThrow("no runtime 'tgi'");
      node.inject('model-swap', { target: 'sglang' });
      expect(node.runtimes.get('sglang')?.model).toBe('mistralai/Mistral-7B-Instruct-v0.3');
      node.inject('nvidia-smi-hang');
      expect(control().split('\n')[0]).toBe('hang');
      expect(node.active().map((i) => i.incident)).toEqual([
        'gpu-lost',
        'model-swap',
        'nvidia-smi-hang',
      ]);

      // A config incident reaches the agent through whoever runs it.
      const budgets: unknown[] = [];
      node.reconfigure = () =>
        budgets.push(
          (parse(node.agentConfig()) as { cost: { monthly_budget_usd: number } }).cost
            .monthly_budget_usd,
        );
      expect(
        (parse(node.agentConfig()) as { cost: { monthly_budget_usd: number } }).cost
          .monthly_budget_usd,
      ).toBe(50_000);
      node.inject('budget-cut');
      expect(budgets).toEqual([10]);

      node.clear();
      expect(control()).not.toMatch(/^(hang|lose-gpu)/m);
      expect(node.runtimes.get('sglang')?.model).toBe('Qwen/Qwen2.5-7B-Instruct');
      expect(node.active()).toEqual([]);
      expect(budgets).toEqual([10, 50_000]);
    } finally {
      await node.close();
    }
  });
});
