import { itDeclaresWhatItReads } from '../../helpers/runtime-api.js';
import { describe, expect, it } from 'vitest';
import { mapTriton, triton } from '../../../agent/collectors/runtimes/adapters/triton.js';
import { TTFT_BUCKETS } from '../../../agent/collectors/runtimes/buckets.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { exposition, Folded } from '../../helpers/runtime-reading.js';

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

describe('its column of the runtime table (docs/runtimes.md)', () => {
  itDeclaresWhatItReads(triton, [
    { '/metrics': 'triton_metrics_trtllm-backend-readme.txt' },
    { '/metrics': 'triton_metrics_constructed_newer-backend.txt' },
  ]);
});
