import { describe, expect, it } from 'vitest';
import type { RuntimeApi } from '../../agent/collectors/runtimes/adapter.js';
import { llamacpp, mapLlamacpp } from '../../agent/collectors/runtimes/adapters/llamacpp.js';
import { mapNim } from '../../agent/collectors/runtimes/adapters/nim.js';
import { mapOllama } from '../../agent/collectors/runtimes/adapters/ollama.js';
import { mapSglang, sglang } from '../../agent/collectors/runtimes/adapters/sglang.js';
import { mapTgi } from '../../agent/collectors/runtimes/adapters/tgi.js';
import { mapTriton } from '../../agent/collectors/runtimes/adapters/triton.js';
import { mapVllm } from '../../agent/collectors/runtimes/adapters/vllm.js';
import { TTFT_BUCKETS } from '../../agent/collectors/runtimes/buckets.js';
import { liveLoadOf, loadOf } from '../../agent/collectors/runtimes/load.js';
import * as M from '../../agent/collectors/runtimes/metrics.js';
import { modelName } from '../../agent/collectors/runtimes/model-name.js';
import { readFixture } from '../helpers/fixtures.js';
import { exposition, Folded } from '../helpers/runtime-reading.js';

const json = (file: string) => JSON.parse(readFixture('runtimes', file)) as never;

/** A runtime's HTTP API answering from files; every path asked is kept. */
function apiOf(answers: Record<string, string>): RuntimeApi & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get: async (path: string) => {
      asked.push(path);
      const body = answers[path];
      return body === undefined ? { status: 404, body: 'Not Found' } : { status: 200, body };
    },
  };
}

describe('model names users know', () => {
  it.each([
    // A hub id is a name, kept whole.
    ['meta-llama/Llama-3.1-8B-Instruct', 'meta-llama/Llama-3.1-8B-Instruct'],
    // The Hugging Face cache: the repository, not the snapshot hash (SGLang's /get_server_info).
    [
      '/root/.cache/huggingface/hub/models--meta-llama--Llama-3.1-8B-Instruct/snapshots/0e9e39f249a16976918f6564b8830bc894c89659',
      'meta-llama/Llama-3.1-8B-Instruct',
    ],
    [
      '/data/hf/models--Qwen--Qwen2.5-7B-Instruct/snapshots/a09a35458c702b33eeacc393d103063234e8bc28/',
      'Qwen/Qwen2.5-7B-Instruct',
    ],
    // A revision folder of another layout, with its trailing slash (SGLang PR 1853's capture).
    [
      '/shared/public/elr-models/meta-llama/Llama-3.2-3B/5cc0ffe09ee49f7be6ca7c794ee6bd7245e84e60/',
      'Llama-3.2-3B',
    ],
    ['/models/Qwen2.5-7B-Instruct/', 'Qwen2.5-7B-Instruct'],
    ['./models/mistral-7b', 'mistral-7b'],
    // A file inside a snapshot keeps its own name.
    [
      '/root/.cache/huggingface/hub/models--bartowski--Qwen2.5-7B-GGUF/snapshots/0123456789abcdef0123456789abcdef01234567/Qwen2.5-7B-Q4_K_M.gguf',
      'Qwen2.5-7B-Q4_K_M.gguf',
    ],
    ['C:\\models\\phi-3.gguf', 'phi-3.gguf'],
  ])('%s is %s', (raw, name) => expect(modelName(raw)).toBe(name));

  it('an empty name is no name', () => {
    expect(modelName('  ')).toBeUndefined();
    expect(modelName(undefined)).toBeUndefined();
  });

  it("SGLang's capture with a revision path: the series carry the model's name, not its hash", () => {
    const r = new Folded(
      mapSglang(exposition('sglang_metrics_pr1853_snapshot-path-model_partial.txt'), {}, 't'),
    );
    expect(r.reading.models).toEqual(['Llama-3.2-3B']);
    expect(r.value(M.PROMPT_TOKENS, { model: 'Llama-3.2-3B' })).toBe(230794);
  });
});

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

  it('maps finish reasons onto outcomes: stop and length ok, abort aborted, error error', () => {
    expect(v1.value(M.REQUESTS, { outcome: 'ok' })).toBe(158);
    expect(v1.value(M.REQUESTS, { outcome: 'aborted' })).toBe(2);
    expect(v1.value(M.REQUESTS, { outcome: 'error' })).toBe(1);
    expect(v1.all(M.REQUESTS)).toHaveLength(3);
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
    expect(v0.value(M.REQUESTS, { ...m, outcome: 'ok' })).toBe(42);
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
    expect(r.value(M.REQUESTS, { outcome: 'ok' })).toBe(0);
  });
});

describe('SGLang', () => {
  const r = new Folded(
    mapSglang(
      exposition('sglang_metrics_llama-3.1-8b_docs-example.txt'),
      { maxConcurrency: 256 },
      'localhost:30000',
    ),
  );
  const m = { model: 'meta-llama/Llama-3.1-8B-Instruct' };

  it('maps the docs capture', () => {
    expect(r.value(M.REQUESTS_WAITING, m)).toBe(2826);
    expect(r.value(M.REQUESTS_RUNNING, m)).toBe(162);
    expect(r.value(M.KV_CACHE_USAGE, m)).toBe(0.28);
    expect(r.value(M.PROMPT_TOKENS, m)).toBe(8_128_902);
    expect(r.value(M.GENERATION_TOKENS, m)).toBe(7_557_572);
    expect(r.value(M.MAX_CONCURRENCY, m)).toBe(256);
    expect(r.one(M.TIME_TO_FIRST_TOKEN).histogram?.count).toBe(11_008);
    expect(r.one(M.TIME_TO_FIRST_TOKEN).histogram?.sum).toBe(2.3518979474117756e6);
    expect(r.one(M.REQUEST_DURATION).histogram?.count).toBe(11_228);
  });

  it('reads the old time_per_output_token name as inter-token latency', () => {
    expect(r.one(M.INTER_TOKEN_LATENCY).histogram?.count).toBe(7.400757e6);
  });

  it('leaves out what the old build lacks, and the func_latency family with its `name` label', () => {
    expect(r.source('preemptions')).toBe('none');
    expect(r.source('request_outcomes')).toBe('none');
    expect(r.reading.models).toEqual(['meta-llama/Llama-3.1-8B-Instruct']);
  });

  it('folds data-parallel ranks and drops tensor-parallel copies', () => {
    const text = [
      '# TYPE sglang:num_running_reqs gauge',
      'sglang:num_running_reqs{dp_rank="0",model_name="m",tp_rank="0"} 3',
      'sglang:num_running_reqs{dp_rank="1",model_name="m",tp_rank="0"} 4',
      'sglang:num_running_reqs{dp_rank="0",model_name="m",tp_rank="1"} 3',
      '# TYPE sglang:token_usage gauge',
      'sglang:token_usage{dp_rank="0",model_name="m",tp_rank="0"} 0.2',
      'sglang:token_usage{dp_rank="1",model_name="m",tp_rank="0"} 0.6',
      '# TYPE sglang:num_requests_total counter',
      'sglang:num_requests_total{model_name="m"} 100',
      '# TYPE sglang:num_aborted_requests_total counter',
      'sglang:num_aborted_requests_total{model_name="m"} 7',
      '# TYPE sglang:num_retracted_requests_total counter',
      'sglang:num_retracted_requests_total{model_name="m"} 2',
    ].join('\n');
    const f = new Folded(mapSglang(parseText(text), {}, 't'));
    expect(f.value(M.REQUESTS_RUNNING)).toBe(7);
    expect(f.value(M.KV_CACHE_USAGE)).toBeCloseTo(0.4, 12);
    expect(f.value(M.REQUESTS, { outcome: 'ok' })).toBe(93);
    expect(f.value(M.REQUESTS, { outcome: 'aborted' })).toBe(7);
    expect(f.value(M.PREEMPTIONS)).toBe(2);
  });
});

describe('SGLang, the first releases with metrics (v0.3.5 docs capture)', () => {
  const old = new Folded(
    mapSglang(
      exposition('sglang_metrics_v0.3.5_docs-production-metrics_gemma-2-9b_partial.txt'),
      {},
      'localhost:30000',
    ),
  );
  const m = { model: 'google/gemma-2-9b-it' };

  it('reads the `name` label and the old queue names', () => {
    expect(old.reading.models).toEqual(['google/gemma-2-9b-it']);
    expect(old.value(M.REQUESTS_RUNNING, m)).toBe(0);
    expect(old.value(M.REQUESTS_WAITING, m)).toBe(0);
    expect(old.value(M.PROMPT_TOKENS, m)).toBe(506780);
  });

  it('takes max concurrency from its max_running_requests gauge when there is no server info', () => {
    expect(old.value(M.MAX_CONCURRENCY, m)).toBe(4097);
    expect(loadOf(old.reading).maxConcurrency).toBe(4097);
  });

  it('a newer /get_server_info with null fields is read, not rejected: version and model stay', async () => {
    const api = apiOf({
      '/get_server_info': readFixture('runtimes', 'sglang_get-server-info_nulls_constructed.json'),
    });
    const facts = await sglang.facts(api);
    expect(facts.version).toBe('0.5.5');
    // max_running_requests is null: not stated, so not invented.
    expect(facts.maxConcurrency).toBeUndefined();
    expect(modelName(facts.model)).toBe('meta-llama/Llama-3.1-8B-Instruct');
  });
});

describe('TGI', () => {
  const info = json('tgi_info_constructed.json') as { model_id: string; version: string };
  const r = new Folded(
    mapTgi(
      exposition('tgi_metrics_datadog-fixture_partial.txt'),
      { model: info.model_id, version: info.version, maxConcurrency: 128 },
      'localhost:3000',
    ),
  );
  const m = { model: 'HuggingFaceH4/zephyr-7b-beta' };

  it('takes the model from /info (TGI has no labels) and maps its unsuffixed counters', () => {
    expect(r.value(M.REQUESTS_WAITING, m)).toBe(0);
    expect(r.value(M.REQUESTS_RUNNING, m)).toBe(0);
    expect(r.value(M.MAX_CONCURRENCY, m)).toBe(128);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'ok' })).toBe(109);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'error' })).toBe(2);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'rejected' })).toBe(0);
  });

  it('derives prompt tokens from the input-length histogram sum, and says so', () => {
    const text = readFixture('runtimes', 'tgi_metrics_datadog-fixture_partial.txt');
    const sum = Number(/^tgi_request_input_length_sum (\S+)$/m.exec(text)?.[1]);
    expect(r.value(M.PROMPT_TOKENS, m)).toBe(sum);
    expect(r.source('prompt_tokens')).toBe('derived approx');
    expect(r.source('time_to_first_token')).toBe('none');
    expect(r.source('kv_cache_usage')).toBe('none'); // no tgi_batch_max_total_tokens in the capture
  });

  it('counts overloaded as rejected and derives KV use from the token budget', () => {
    const text = [
      '# TYPE tgi_request_failure counter',
      'tgi_request_failure{err="overloaded"} 4',
      'tgi_request_failure{err="generation"} 1',
      'tgi_request_failure{err="validation"} 2',
      '# TYPE tgi_batch_current_max_tokens gauge',
      'tgi_batch_current_max_tokens 3000',
      'tgi_batch_max_total_tokens 12000',
    ].join('\n');
    const f = new Folded(mapTgi(parseText(text), { model: 'z' }, 't'));
    expect(f.value(M.REQUESTS, { outcome: 'rejected' })).toBe(4);
    expect(f.value(M.REQUESTS, { outcome: 'error' })).toBe(3);
    expect(f.value(M.KV_CACHE_USAGE)).toBe(0.25);
    expect(f.source('kv_cache_usage')).toBe('derived approx');
  });
});

describe('llama.cpp', () => {
  it('maps its counters and gauges, with the model and slots from /props', () => {
    const props = json('llama.cpp_props_constructed.json') as {
      model_path: string;
      total_slots: number;
    };
    const r = new Folded(
      mapLlamacpp(
        exposition('llama.cpp_metrics_constructed_full.txt'),
        { model: props.model_path, maxConcurrency: props.total_slots },
        'localhost:8080',
      ),
    );
    const m = { model: 'qwen2.5-coder-7b-instruct-q4_k_m.gguf' };
    expect(r.value(M.PROMPT_TOKENS, m)).toBe(143);
    expect(r.value(M.GENERATION_TOKENS, m)).toBe(673);
    expect(r.value(M.PROMPT_PROCESSING_TIME, m)).toBe(8.168);
    expect(r.value(M.GENERATION_TIME, m)).toBe(29.567);
    expect(r.value(M.REQUESTS_RUNNING, m)).toBe(1);
    expect(r.value(M.REQUESTS_WAITING, m)).toBe(2);
    expect(r.value(M.MAX_CONCURRENCY, m)).toBe(4);
    expect(r.source('inter_token_latency')).toBe('derived approx');
    expect(r.source('kv_cache_usage')).toBe('none');
    expect(r.source('time_to_first_token')).toBe('none');
  });

  it('reads the captured fragment', () => {
    const r = new Folded(
      mapLlamacpp(exposition('llama.cpp_metrics_vulkan-build-2025-06_partial.txt'), {}, 't'),
    );
    expect(r.value(M.PROMPT_TOKENS)).toBe(143);
    expect(r.value(M.GENERATION_TIME)).toBe(29.567);
  });
});

describe('llama.cpp started with --alias', () => {
  const api = () =>
    apiOf({
      '/props': readFixture('runtimes', 'llama.cpp_props_alias_constructed.json'),
      '/v1/models': readFixture('runtimes', 'llama.cpp_v1-models_alias_constructed.json'),
      '/metrics': readFixture('runtimes', 'llama.cpp_metrics_constructed_full.txt'),
    });

  it('labels its series with the served name clients ask for (the alias), not the file', async () => {
    const facts = await llamacpp.facts(api());
    expect(facts.model).toBe('qwen2.5-coder');
    const r = new Folded(await llamacpp.read(api(), facts, 'localhost:8080'));
    expect(r.reading.models).toEqual(['qwen2.5-coder']);
    expect(r.value(M.PROMPT_TOKENS, { model: 'qwen2.5-coder' })).toBe(143);
  });

  it('without /v1/models (older builds), the alias from /props', async () => {
    const facts = await llamacpp.facts(
      apiOf({ '/props': readFixture('runtimes', 'llama.cpp_props_alias_constructed.json') }),
    );
    expect(facts.model).toBe('qwen2.5-coder');
  });

  it('is identified through /props only: never the 1.3 MB web UI at /', async () => {
    const asked = api();
    expect(await llamacpp.identify(asked)).toBe(true);
    expect(asked.asked).not.toContain('/');
  });
});

describe("llama.cpp's live load", () => {
  const idleButCached = [
    '# TYPE llamacpp:requests_processing gauge',
    'llamacpp:requests_processing 0',
    '# TYPE llamacpp:requests_deferred gauge',
    'llamacpp:requests_deferred 0',
    '# TYPE llamacpp:kv_cache_usage_ratio gauge',
    'llamacpp:kv_cache_usage_ratio 0.89',
  ].join('\n');

  it("is its busy slots and deferred requests, not a KV cache full of idle slots' cached prompts", () => {
    const reading = mapLlamacpp(parseText(idleButCached), { model: 'm', maxConcurrency: 4 }, 't');
    expect(loadOf(reading).kvCacheUsage).toBe(0.89);
    expect(liveLoadOf(llamacpp, reading, {})).toEqual({
      waiting: 0,
      running: 0,
      maxConcurrency: 4,
    });
  });
});

describe('Ollama', () => {
  it('reports loaded models with their memory, and installed ones as not loaded', () => {
    const r = new Folded(
      mapOllama(
        json('ollama_api-ps_gemma3-4b.json'),
        (json('ollama_api-tags_constructed.json') as { models: { name: string }[] }).models.map(
          (m) => m.name,
        ),
        'localhost:11434',
      ),
    );
    expect(r.value(M.MODEL_LOADED, { model: 'gemma3:latest' })).toBe(1);
    expect(r.value(M.MODEL_LOADED, { model: 'qwen2.5-coder:7b' })).toBe(0);
    expect(r.value(M.MODEL_MEMORY, { model: 'gemma3:latest', location: 'vram' })).toBe(
      5_964_735_424,
    );
    expect(r.value(M.MODEL_MEMORY, { model: 'gemma3:latest', location: 'total' })).toBe(
      5_964_735_424,
    );
    expect(r.reading.models).toEqual(['gemma3:latest']);
    expect(r.reading.metricsSource).toBe('derived');
    expect(r.source('models')).toBe('native');
    expect(r.source('request_outcomes')).toBe('none');
  });
});

describe('Triton with TensorRT-LLM', () => {
  it('maps the README capture: no waiting gauge, so pending requests; KV from blocks', () => {
    const r = new Folded(
      mapTriton(exposition('triton_metrics_trtllm-backend-readme.txt'), {}, 'localhost:8002'),
    );
    const m = { model: 'tensorrt_llm' };
    expect(r.value(M.REQUESTS_WAITING, m)).toBe(0);
    expect(r.value(M.REQUESTS_RUNNING, m)).toBe(1);
    expect(r.value(M.MAX_CONCURRENCY, m)).toBe(512);
    expect(r.value(M.KV_CACHE_USAGE, m)).toBe(1 / 6239);
    expect(r.source('kv_cache_usage')).toBe('derived');
    expect(r.value(M.MODEL_MEMORY, { ...m, location: 'vram' })).toBe(1_610_236);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'ok' })).toBe(0);
    expect(r.value(M.REQUEST_TIME, m)).toBe(0);
  });

  it('converts microsecond counters and the millisecond histogram to seconds', () => {
    const r = new Folded(
      mapTriton(exposition('triton_metrics_constructed_newer-backend.txt'), {}, 't'),
    );
    const m = { model: 'tensorrt_llm' };
    expect(r.value(M.REQUESTS_WAITING, m)).toBe(4);
    expect(r.value(M.REQUESTS_RUNNING, m)).toBe(16);
    expect(r.value(M.KV_CACHE_USAGE, m)).toBe(0.75);
    expect(r.value(M.REQUEST_TIME, m)).toBeCloseTo(186.5, 9);
    expect(r.value(M.QUEUE_TIME, m)).toBeCloseTo(2.4, 9);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'ok' })).toBe(120);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'rejected' })).toBe(3);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'aborted' })).toBe(1);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'error' })).toBe(2);
    const ttft = r.one(M.TIME_TO_FIRST_TOKEN, m).histogram;
    expect(ttft?.sum).toBeCloseTo(30.25, 9);
    expect(ttft?.count).toBe(120);
    expect(ttft?.counts[TTFT_BUCKETS.indexOf(0.1)]).toBe(20);
    expect(ttft?.counts[TTFT_BUCKETS.indexOf(0.5)]).toBe(110);
    expect(ttft?.counts[TTFT_BUCKETS.indexOf(1)]).toBe(110); // no 1 s edge: 0.5 s is the last below
    expect(r.source('time_to_first_token')).toBe('native approx');
    // The ensemble is a model of its own, never added to tensorrt_llm's figures.
    expect(r.value(M.REQUESTS, { model: 'ensemble', outcome: 'ok' })).toBe(120);
  });
});

describe('NIM', () => {
  it('maps the unprefixed V0-style names, success and failure', () => {
    const r = new Folded(
      mapNim(exposition('nim_metrics_constructed_llama-3.1-8b.txt'), {}, 'localhost:8000'),
    );
    const m = { model: 'meta/llama-3.1-8b-instruct' };
    expect(r.value(M.REQUESTS_RUNNING, m)).toBe(6);
    expect(r.value(M.REQUESTS_WAITING, m)).toBe(2);
    expect(r.value(M.MAX_CONCURRENCY, m)).toBe(256);
    expect(r.value(M.KV_CACHE_USAGE, m)).toBe(0.42);
    expect(r.value(M.PROMPT_TOKENS, m)).toBe(52_000);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'ok' })).toBe(97);
    expect(r.value(M.REQUESTS, { ...m, outcome: 'error' })).toBe(3);
    expect(r.one(M.TIME_TO_FIRST_TOKEN).histogram?.counts[TTFT_BUCKETS.indexOf(0.04)]).toBe(40);
    expect(r.one(M.REQUEST_DURATION).histogram?.sum).toBe(96.5);
  });
});

import { parseExposition } from '../../agent/core/prom-text.js';
function parseText(text: string) {
  return parseExposition(`${text}\n`);
}
