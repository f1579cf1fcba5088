import { itDeclaresWhatItReads } from '../../helpers/runtime-api.js';
import { describe, expect, it } from 'vitest';
import { mapOllama } from '../../../agent/collectors/runtimes/adapters/ollama.js';
import { mapVllm, vllm } from '../../../agent/collectors/runtimes/adapters/vllm.js';
import {
  REQUEST_BUCKETS,
  TOKEN_COUNT_BUCKETS,
  TTFT_BUCKETS,
} from '../../../agent/collectors/runtimes/buckets.js';
import { loadOf } from '../../../agent/collectors/runtimes/load.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { exposition, expositionOf, Folded } from '../../helpers/runtime-reading.js';

describe('vLLM', () => {
  const v1 = new Folded(
    mapVllm(exposition('vllm_metrics_v1_constructed_two-engines.txt'), {}, 'localhost:8000'),
  );
  const model = { model: 'Qwen2.5-7B-Instruct' };

  it('folds two engines into one series per model, named by the path basename', () => {
    expect(v1.reading.models).toEqual(['Qwen2.5-7B-Instruct']);
    expect(v1.one(M.REQUESTS_WAITING).labels).toEqual({
      runtime: 'vllm',
      target: 'localhost:8000',
      model: 'Qwen2.5-7B-Instruct',
    });
    expect(v1.value(M.REQUESTS_WAITING, model)).toBe(5);
    expect(v1.value(M.REQUESTS_RUNNING, model)).toBe(5);
    expect(v1.value(M.KV_CACHE_USAGE, model)).toBeCloseTo(0.4, 12);
    expect(v1.value(M.PREEMPTIONS, model)).toBe(7);
    expect(v1.value(M.PROMPT_TOKENS, model)).toBe(200_000);
    expect(v1.value(M.GENERATION_TOKENS, model)).toBe(75_000);
    expect(v1.value(M.PREFIX_CACHE_HITS, model)).toBe(4000);
    expect(v1.value(M.PREFIX_CACHE_QUERIES, model)).toBe(20_000);
    expect(v1.value(M.MODEL_LOADED, model)).toBe(1);
  });

  it("the probe's load check: queues add up over engines, the fullest engine's KV cache counts", () => {
    expect(loadOf(v1.reading)).toEqual({ waiting: 5, running: 5, kvCacheUsage: 0.5 });
    // Ollama reports no queue: nothing, rather than a made-up 0.
    expect(loadOf(mapOllama({ models: [] }, [], 't'))).toEqual({});
  });

  it('maps finish reasons onto outcomes, keeping the reason: stop and length ok, abort aborted, error error', () => {
    expect(v1.value(M.REQUESTS, { outcome: 'ok', finish_reason: 'stop' })).toBe(150);
    expect(v1.value(M.REQUESTS, { outcome: 'ok', finish_reason: 'length' })).toBe(8);
    expect(v1.value(M.REQUESTS, { outcome: 'aborted', finish_reason: 'abort' })).toBe(2);
    expect(v1.value(M.REQUESTS, { outcome: 'error', finish_reason: 'error' })).toBe(1);
    expect(v1.all(M.REQUESTS)).toHaveLength(4);
  });

  it('reads the finish reasons of the captured docs example, and starts the one it lacks at 0', () => {
    const r = new Folded(
      mapVllm(exposition('vllm_metrics_v1_docs-design-metrics_llama-3.1-8b_partial.txt'), {}, 't'),
    );
    const m = { model: 'meta-llama/Llama-3.1-8B-Instruct' };
    expect(r.value(M.REQUESTS, { ...m, finish_reason: 'stop' })).toBe(1);
    expect(r.value(M.REQUESTS, { ...m, finish_reason: 'length' })).toBe(131);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'aborted' })).toBe(0);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'error', finish_reason: 'error' })).toBe(0);
    // Cut before its buckets above 0.1 s: what it shows is still read, on canonical edges.
    expect(r.one(M.TIME_TO_FIRST_TOKEN).histogram?.count).toBe(140);
  });

  it('a finish reason vLLM adds later is counted as "other", not dropped and not unbounded', () => {
    const text = [
      '# TYPE vllm:request_success_total counter',
      'vllm:request_success_total{finished_reason="stop",model_name="m"} 3.0',
      'vllm:request_success_total{finished_reason="tool_budget",model_name="m"} 2.0',
    ].join('\n');
    const r = new Folded(mapVllm(expositionOf(text), {}, 't'));
    expect(r.value(M.REQUESTS, { outcome: 'ok', finish_reason: 'other' })).toBe(2);
    expect(r.value(M.REQUESTS, { outcome: 'ok', finish_reason: 'stop' })).toBe(3);
  });

  it('reads prompt and output lengths per request, exact up to its last edge (vLLM builds the same 1-2-5 edges, up to the context length)', () => {
    const prompt = v1.one(M.REQUEST_PROMPT_TOKENS).histogram;
    const at = (le: number) => prompt?.counts[TOKEN_COUNT_BUCKETS.indexOf(le as never)];
    expect([at(50), at(500), at(2000), at(5000), at(20_000), at(10_000_000)]).toEqual([
      4, 115, 160, 161, 161, 161,
    ]);
    expect(prompt?.sum).toBe(197_700);
    const output = v1.one(M.REQUEST_GENERATION_TOKENS).histogram;
    // Eight cut at max_tokens (512): between the 500 and 1000 edges, as the "length" count says.
    expect(output?.counts[TOKEN_COUNT_BUCKETS.indexOf(1000)]).toBe(161);
    expect(output?.counts[TOKEN_COUNT_BUCKETS.indexOf(500)]).toBe(153);
    // Above its last edge (20000 here) a request could be up to the context length (32768).
    expect(v1.source('request_lengths')).toBe('native approx');
  });

  it('reads prefill and decode time, under-counting only below its first edge (0.3 s)', () => {
    const prefill = v1.one(M.REQUEST_PREFILL).histogram;
    expect(prefill?.count).toBe(161);
    expect(prefill?.sum).toBe(17.75);
    expect(prefill?.counts[REQUEST_BUCKETS.indexOf(0.3)]).toBe(156);
    expect(prefill?.counts[REQUEST_BUCKETS.indexOf(0.16)]).toBe(0);
    const decode = v1.one(M.REQUEST_DECODE).histogram;
    expect(decode?.counts[REQUEST_BUCKETS.indexOf(2.5)]).toBe(147);
    expect(v1.source('request_phases')).toBe('native approx');
  });

  it('re-buckets TTFT exactly (same edges) and keeps _sum and _count', () => {
    const ttft = v1.one(M.TIME_TO_FIRST_TOKEN).histogram;
    expect(ttft?.count).toBe(161);
    expect(ttft?.sum).toBe(49.75);
    const at = (le: number) => ttft?.counts[TTFT_BUCKETS.indexOf(le as never)];
    expect([at(0.08), at(0.1), at(0.25), at(0.5), at(1), at(2.5), at(2560)]).toEqual([
      0, 40, 145, 150, 159, 161, 161,
    ]);
    expect(v1.source('time_to_first_token')).toBe('native');
  });

  it('takes one name per concept when the deprecated one is shown beside it', () => {
    // The fixture has inter_token_latency and time_per_output_token with the same counts:
    // reading both would double them.
    expect(v1.all(M.INTER_TOKEN_LATENCY)).toHaveLength(1);
    expect(v1.one(M.INTER_TOKEN_LATENCY).histogram?.count).toBe(74_840);
    expect(v1.all(M.KV_CACHE_USAGE)).toHaveLength(1);
    expect(v1.source('inter_token_latency')).toBe('native approx');
  });

  it('marks what vLLM does not report', () => {
    expect(v1.source('max_concurrency')).toBe('none');
    expect(v1.reading.metricsSource).toBe('native');
  });

  it('reads V0 names and V0 buckets, under-counting where edges differ', () => {
    const v0 = new Folded(mapVllm(exposition('vllm_metrics_v0_constructed_opt-125m.txt'), {}, 't'));
    const m = { model: 'facebook/opt-125m' };
    expect(v0.value(M.KV_CACHE_USAGE, m)).toBe(0.0125);
    expect(v0.value(M.REQUESTS, { ...m, outcome: 'ok', finish_reason: 'stop' })).toBe(12);
    expect(v0.value(M.REQUESTS, { ...m, outcome: 'ok', finish_reason: 'length' })).toBe(30);
    expect(v0.value(M.REQUESTS, { ...m, outcome: 'aborted' })).toBe(0);
    const itl = v0.one(M.INTER_TOKEN_LATENCY).histogram;
    expect(itl?.count).toBe(4758);
    expect(itl?.sum).toBe(21.6);
    // V0 TTFT stops at 10 s: above it the canonical buckets hold what is known to be <= 10 s.
    const ttft = v0.one(M.TIME_TO_FIRST_TOKEN).histogram;
    expect(ttft?.counts[TTFT_BUCKETS.indexOf(20)]).toBe(42);
    const e2e = v0.one(M.REQUEST_DURATION).histogram;
    expect(e2e?.counts[0]).toBe(0); // 0.01 s: no V0 edge at or below it
    expect(v0.source('request_duration')).toBe('native approx');
  });

  it('reads the captured 0.10 text: the new KV name, the new prefix counters, not the deprecated', () => {
    const r = new Folded(
      mapVllm(exposition('vllm_metrics_v1_v0.10.0_glm-4.5_partial.txt'), {}, 't'),
    );
    expect(r.value(M.KV_CACHE_USAGE, { model: 'zai-org/GLM-4.5' })).toBe(9.75010481363281e-6);
    expect(r.value(M.PREFIX_CACHE_QUERIES)).toBe(32);
    // The capture is cut before prefix_cache_hits_total; the deprecated gpu_prefix_cache_hits
    // it does show may count blocks, so it is not paired with token queries.
    expect(r.all(M.PREFIX_CACHE_HITS)).toEqual([]);
    expect(r.source('prefix_cache')).toBe('native');
  });

  it('0.8 counted prefix-cache queries and hits in blocks: absent, and said so; never under a tokens name', () => {
    const r = new Folded(
      mapVllm(exposition('vllm_metrics_v1_v0.8_constructed_prefix-cache-blocks.txt'), {}, 't'),
    );
    expect(r.all(M.PREFIX_CACHE_QUERIES)).toEqual([]);
    expect(r.all(M.PREFIX_CACHE_HITS)).toEqual([]);
    expect(r.source('prefix_cache')).toBe('none');
    expect(r.reading.notes.join(' ')).toMatch(/in blocks/);
    // Everything else of the read is kept.
    expect(r.value(M.PROMPT_TOKENS)).toBe(16384);
  });

  it('reads the captured V0 fragment without inventing concepts', () => {
    const r = new Folded(
      mapVllm(exposition('vllm_metrics_v0_histograms_opt-125m_partial.txt'), {}, 't'),
    );
    expect(r.reading.models).toEqual(['facebook/opt-125m']);
    expect(r.source('time_to_first_token')).toBe('none');
    // A HELP with no samples after it declares request_success: outcomes start at 0.
    expect(r.value(M.REQUESTS, { outcome: 'ok', finish_reason: 'stop' })).toBe(0);
  });
});

describe('its column of the runtime table (docs/runtimes.md)', () => {
  itDeclaresWhatItReads(vllm, [
    { '/metrics': 'vllm_metrics_v1_constructed_two-engines.txt' },
    { '/metrics': 'vllm_metrics_v1_v0.10.0_glm-4.5_partial.txt' },
    { '/metrics': 'vllm_metrics_v0_constructed_opt-125m.txt' },
    { '/metrics': 'vllm_metrics_v0_histograms_opt-125m_partial.txt' },
    { '/metrics': 'vllm_metrics_v1_v0.8_constructed_prefix-cache-blocks.txt' },
    { '/metrics': 'vllm_metrics_v1_docs-design-metrics_llama-3.1-8b_partial.txt' },
  ]);
});
