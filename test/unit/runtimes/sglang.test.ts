import { describe, expect, it } from 'vitest';
import { mapSglang, sglang } from '../../../agent/collectors/runtimes/adapters/sglang.js';
import { loadOf } from '../../../agent/collectors/runtimes/load.js';
import * as M from '../../../agent/collectors/runtimes/metrics.js';
import { TOKEN_COUNT_BUCKETS } from '../../../agent/collectors/runtimes/buckets.js';
import { modelName } from '../../../agent/shared/model-name.js';
import { readFixture } from '../../helpers/fixtures.js';
import { exposition, expositionOf, Folded } from '../../helpers/runtime-reading.js';
import { apiOf, itDeclaresWhatItReads } from '../../helpers/runtime-api.js';

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
    const f = new Folded(mapSglang(expositionOf(text), {}, 't'));
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

  it('reads prompt and output lengths where --collect-tokens-histogram is on', () => {
    // The families and label order SGLang's own metrics tests assert
    // (sglang:prompt_tokens_histogram_bucket{le="...",model_name="..."}), on custom edges.
    const edges = [100, 300, 1000, 4000];
    const family = (name: string, counts: number[], sum: number) => [
      `# TYPE sglang:${name} histogram`,
      ...edges.map((le, i) => `sglang:${name}_bucket{le="${le}.0",model_name="m"} ${counts[i]}.0`),
      `sglang:${name}_bucket{le="+Inf",model_name="m"} ${counts.at(-1)}.0`,
      `sglang:${name}_count{model_name="m"} ${counts.at(-1)}.0`,
      `sglang:${name}_sum{model_name="m"} ${sum}.0`,
    ];
    const f = new Folded(
      mapSglang(
        expositionOf(
          [
            ...family('prompt_tokens_histogram', [2, 5, 9, 10, 10], 5200),
            ...family('generation_tokens_histogram', [4, 8, 10, 10, 10], 2100),
          ].join('\n'),
        ),
        {},
        't',
      ),
    );
    const prompt = f.one(M.REQUEST_PROMPT_TOKENS).histogram;
    expect(prompt?.count).toBe(10);
    expect(prompt?.sum).toBe(5200);
    // 1000 is a canonical edge too: exact there; 500 lies between SGLang's 300 and 1000.
    expect(prompt?.counts[TOKEN_COUNT_BUCKETS.indexOf(1000)]).toBe(9);
    expect(prompt?.counts[TOKEN_COUNT_BUCKETS.indexOf(500)]).toBe(5);
    expect(f.one(M.REQUEST_GENERATION_TOKENS).histogram?.count).toBe(10);
    expect(f.source('request_lengths')).toBe('native approx');
  });

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

describe('its column of the runtime table (docs/runtimes.md)', () => {
  itDeclaresWhatItReads(
    sglang,
    [
      {
        '/metrics': 'sglang_metrics_llama-3.1-8b_docs-example.txt',
        '/get_server_info': 'sglang_server-info_constructed.json',
      },
      { '/metrics': 'sglang_metrics_pr1853_snapshot-path-model_partial.txt' },
      {
        '/metrics': 'sglang_metrics_v0.3.5_docs-production-metrics_gemma-2-9b_partial.txt',
        '/get_server_info': 'sglang_get-server-info_nulls_constructed.json',
      },
    ],
    // Declared from its documentation (and constructed text above): no capture here shows them.
    ['preemptions', 'request_queue', 'request_outcomes', 'prefix_cache', 'request_lengths'],
  );
});
