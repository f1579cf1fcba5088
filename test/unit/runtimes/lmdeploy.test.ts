import { describe, expect, it } from 'vitest';
import { lmdeploy, mapLmdeploy } from '../../../agent/collectors/runtimes/adapters/lmdeploy.js';
import { TTFT_BUCKETS } from '../../../agent/collectors/runtimes/buckets.js';
import { loadOf } from '../../../agent/collectors/runtimes/load.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { generation, servedModelName } from '../../../agent/proxy/inference.js';
import { probeTargets } from '../../../agent/probe/settings.js';
import { parseConfig } from '../../../agent/config/load.js';
import type { RuntimeEndpoint } from '../../../agent/shared/runtime-endpoints.js';
import { readFixture } from '../../helpers/fixtures.js';
import { apiOf, itDeclaresWhatItReads } from '../../helpers/runtime-api.js';
import { exposition, Folded } from '../../helpers/runtime-reading.js';

const METRICS = 'lmdeploy_metrics_v0.16.0_rendered-by-its-stat-logger_qwen2.5-7b.txt';
const MODELS = 'lmdeploy_v1-models_constructed.json';
const model = { model: 'Qwen/Qwen2.5-7B-Instruct' };

describe('LMDeploy', () => {
  const r = new Folded(mapLmdeploy(exposition(METRICS), {}, 'localhost:23333'));

  it("maps its vLLM-like families: the engine queue and the API server's queue both wait", () => {
    expect(r.reading.models).toEqual(['Qwen/Qwen2.5-7B-Instruct']);
    expect(r.reading.metricsSource).toBe('native');
    expect(r.value(M.REQUESTS_WAITING, model)).toBe(3); // 1 for the engine, 2 for a handle
    expect(r.value(M.REQUESTS_RUNNING, model)).toBe(3);
    expect(r.value(M.KV_CACHE_USAGE, model)).toBe(0.4123);
    expect(r.value(M.PROMPT_TOKENS, model)).toBe(2986);
    expect(r.value(M.GENERATION_TOKENS, model)).toBe(13);
    expect(r.value(M.PREFIX_CACHE_HITS, model)).toBe(512);
    expect(r.all(M.PREFIX_CACHE_QUERIES)).toEqual([]);
    expect(r.value(M.MODEL_LOADED, model)).toBe(1);
    expect(loadOf(r.reading)).toEqual({ waiting: 3, running: 3, kvCacheUsage: 0.4123 });
  });

  it('maps its ResponseType finish reasons onto outcomes, each starting at 0', () => {
    expect(r.value(M.REQUESTS, { ...model, outcome: 'ok' })).toBe(2);
    expect(r.value(M.REQUESTS, { ...model, outcome: 'aborted' })).toBe(1);
    expect(r.value(M.REQUESTS, { ...model, outcome: 'error' })).toBe(1);
    expect(r.value(M.REQUESTS, { ...model, outcome: 'rejected' })).toBe(0);
  });

  it('keeps its TTFT buckets exactly (the same edges as vLLM V1), and its latency histograms', () => {
    const ttft = r.one(M.TIME_TO_FIRST_TOKEN, model).histogram!;
    expect(ttft.count).toBe(3);
    expect(ttft.sum).toBeCloseTo(1.793, 12);
    expect(ttft.counts[TTFT_BUCKETS.indexOf(0.1)]).toBe(0);
    expect(ttft.counts[TTFT_BUCKETS.indexOf(0.25)]).toBe(2);
    expect(ttft.counts[TTFT_BUCKETS.indexOf(2.5)]).toBe(3);
    expect(r.source('time_to_first_token')).toBe('native');
    expect(r.one(M.INTER_TOKEN_LATENCY, model).histogram!.count).toBe(4);
    expect(r.source('inter_token_latency')).toBe('native approx');
    expect(r.one(M.REQUEST_DURATION, model).histogram!.count).toBe(4);
    expect(r.one(M.REQUEST_QUEUE, model).histogram!.sum).toBeCloseTo(0.392, 12);
  });

  it('is identified by its metrics, or by /v1/models where metrics are off; never by /', async () => {
    const byMetrics = apiOf({ '/metrics': readFixture('runtimes', METRICS) });
    expect(await lmdeploy.identify(byMetrics)).toBe(true);
    const byModels = apiOf({ '/v1/models': readFixture('runtimes', MODELS) });
    expect(await lmdeploy.identify(byModels)).toBe(true);
    expect(byModels.asked).not.toContain('/');
    const vllmModels = JSON.stringify({ data: [{ id: 'm', owned_by: 'vllm' }] });
    expect(await lmdeploy.identify(apiOf({ '/v1/models': vllmModels }))).toBe(false);
  });

  it('without --enable-metrics: found, its model served, and doctor says which flag', async () => {
    const api = apiOf({ '/v1/models': readFixture('runtimes', MODELS) });
    const reading = await lmdeploy.read(api, await lmdeploy.facts(api), 'localhost:23333');
    expect(reading.metricsSource).toBe('derived');
    expect(reading.notes.join(' ')).toContain('--enable-metrics');
    expect(new Folded(reading).value(M.MODEL_LOADED, model)).toBe(1);
  });

  it('is probed in the OpenAI chat API, with its queue checked first', () => {
    const endpoint: RuntimeEndpoint = {
      runtime: 'lmdeploy',
      generation: lmdeploy.generation,
      target: 'localhost:23333',
      url: 'http://127.0.0.1:23333',
      probeUrl: 'http://127.0.0.1:23333',
      headers: {},
      promptTokensCounted: 'all',
      runtimeVersion: () => undefined,
      readLoad: async () => ({}),
    };
    const [target] = probeTargets([endpoint], parseConfig({}).probe);
    expect(target).toMatchObject({ api: 'openai-chat', runtime: 'lmdeploy' });
    expect(target?.readLoad).toBeDefined();
  });

  it('is metered by the proxy on its OpenAI paths, and timed on its own /generate', () => {
    const api = (path: string) => {
      const found = generation(lmdeploy.generation, 'POST', path);
      return found ? (found.dialect?.api ?? 'timed only') : undefined;
    };
    expect(api('/v1/chat/completions')).toBe('openai-chat');
    expect(api('/v1/completions')).toBe('openai-completions');
    expect(api('/generate')).toBe('timed only');
    expect(api('/v1/models')).toBeUndefined();
    expect(servedModelName(lmdeploy.generation, 'Qwen/Qwen2.5-7B-Instruct')).toBe(
      'Qwen/Qwen2.5-7B-Instruct',
    );
  });

  it('is accepted in the config wherever a runtime kind is', () => {
    const config = parseConfig({
      collectors: {
        runtimes: { targets: [{ kind: 'lmdeploy', url: 'http://127.0.0.1:23333' }] },
        runtime_logs: { sources: [{ runtime: 'lmdeploy', journald_unit: 'lmdeploy.service' }] },
      },
    });
    expect(config.collectors.runtimes.targets[0]?.kind).toBe('lmdeploy');
    expect(config.collectors.runtimes.discovery.ports).toBeUndefined();
  });
});

describe('its column of the runtime table (docs/runtimes.md)', () => {
  itDeclaresWhatItReads(lmdeploy, [{ '/metrics': METRICS, '/v1/models': MODELS }]);
});
