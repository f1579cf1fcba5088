import { itDeclaresWhatItReads } from '../../helpers/runtime-api.js';
import { describe, expect, it } from 'vitest';
import { mapNim, nim } from '../../../agent/collectors/runtimes/adapters/nim.js';
import { TTFT_BUCKETS } from '../../../agent/collectors/runtimes/buckets.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { exposition, Folded } from '../../helpers/runtime-reading.js';

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

describe('its column of the runtime table (docs/runtimes.md)', () => {
  itDeclaresWhatItReads(
    nim,
    [{ '/metrics': 'nim_metrics_constructed_llama-3.1-8b.txt' }],
    // Declared from its documentation (and constructed text above): no capture here shows them.
    ['preemptions', 'inter_token_latency', 'request_queue'],
  );
});
