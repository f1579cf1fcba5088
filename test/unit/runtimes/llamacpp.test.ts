import { describe, expect, it } from 'vitest';
import { llamacpp, mapLlamacpp } from '../../../agent/collectors/runtimes/adapters/llamacpp.js';
import { liveLoadOf, loadOf } from '../../../agent/collectors/runtimes/load.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { readFixture } from '../../helpers/fixtures.js';
import { exposition, expositionOf, Folded } from '../../helpers/runtime-reading.js';
import { apiOf, itDeclaresWhatItReads } from '../../helpers/runtime-api.js';

const json = (file: string) => JSON.parse(readFixture('runtimes', file)) as never;
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
    const reading = mapLlamacpp(
      expositionOf(idleButCached),
      { model: 'm', maxConcurrency: 4 },
      't',
    );
    expect(loadOf(reading).kvCacheUsage).toBe(0.89);
    expect(liveLoadOf(llamacpp, reading, {})).toEqual({
      waiting: 0,
      running: 0,
      maxConcurrency: 4,
    });
  });
});

describe('its column of the runtime table (docs/runtimes.md)', () => {
  itDeclaresWhatItReads(
    llamacpp,
    [
      {
        '/metrics': 'llama.cpp_metrics_constructed_full.txt',
        '/props': 'llama.cpp_props_constructed.json',
      },
      {
        '/metrics': 'llama.cpp_metrics_vulkan-build-2025-06_partial.txt',
        '/props': 'llama.cpp_props_alias_constructed.json',
        '/v1/models': 'llama.cpp_v1-models_alias_constructed.json',
      },
    ],
    // Declared from its documentation (and constructed text above): no capture here shows them.
    ['kv_cache_usage'],
  );
});
