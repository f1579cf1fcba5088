import { itDeclaresWhatItReads } from '../../helpers/runtime-api.js';
import { describe, expect, it } from 'vitest';
import { mapTgi, tgi } from '../../../agent/collectors/runtimes/adapters/tgi.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { readFixture } from '../../helpers/fixtures.js';
import { exposition, expositionOf, Folded } from '../../helpers/runtime-reading.js';

const json = (file: string) => JSON.parse(readFixture('runtimes', file)) as never;
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
    const f = new Folded(mapTgi(expositionOf(text), { model: 'z' }, 't'));
    expect(f.value(M.REQUESTS, { outcome: 'rejected' })).toBe(4);
    expect(f.value(M.REQUESTS, { outcome: 'error' })).toBe(3);
    expect(f.value(M.KV_CACHE_USAGE)).toBe(0.25);
    expect(f.source('kv_cache_usage')).toBe('derived approx');
  });
});

describe('its column of the runtime table (docs/runtimes.md)', () => {
  itDeclaresWhatItReads(
    tgi,
    [
      {
        '/metrics': 'tgi_metrics_datadog-fixture_partial.txt',
        '/info': 'tgi_info_constructed.json',
      },
    ],
    // Declared from its documentation (and constructed text above): no capture here shows them.
    [
      'kv_cache_usage',
      'inter_token_latency',
      'request_duration',
      'request_queue',
      'generation_tokens',
    ],
  );
});
