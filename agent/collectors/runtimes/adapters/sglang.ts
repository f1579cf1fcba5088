import { z } from 'zod';
import type { ParsedExposition } from '../../../core/prom-text.js';
import {
  getJson,
  getMetrics,
  lenientObject,
  metricsMention,
  type Facts,
  type RuntimeAdapter,
  type RuntimeApi,
} from '../adapter.js';
import { OPENAI_PATHS } from '../../../shared/generation-api.js';
import * as M from '../metrics.js';
import { loadedModels, metricsOffReading, modelLabelledReading } from './common.js';
import { modelName } from '../../../shared/model-name.js';
import { ReadingBuilder, type Reading } from '../reading.js';
import { labelKey, MetricsView } from '../view.js';

const MODEL_INFO = lenientObject({ model_path: z.string() });
const SERVER_INFO = lenientObject({
  version: z.string(),
  max_running_requests: z.number(),
  served_model_name: z.string(),
  model_path: z.string(),
});

/** Ranks that report copies of rank 0's figures; SGLang's default reports rank 0 only. */
const REPLICA_RANKS = ['tp_rank', 'pp_rank', 'moe_ep_rank', 'attn_tp_rank'];

async function modelInfo(api: RuntimeApi) {
  // Renamed from /get_model_info to /model_info in 2025; older servers have only the first.
  return (
    (await getJson(api, '/model_info', MODEL_INFO)) ??
    (await getJson(api, '/get_model_info', MODEL_INFO))
  );
}

export const sglang: RuntimeAdapter<'sglang'> = {
  kind: 'sglang',
  defaultPorts: [30000],
  title: 'SGLang',
  ownMetrics: { path: '/metrics', switchedOnBy: '--enable-metrics' },
  generation: {
    probeApi: 'openai-chat',
    paths: [...OPENAI_PATHS, ['/generate', undefined]],
    queueFigures: true,
  },
  coverage: {
    requests_waiting: 'native',
    requests_running: 'native',
    max_concurrency: 'native (`/get_server_info`, else the `max_running_requests` gauge)',
    kv_cache_usage: 'native',
    preemptions: 'native (retractions; newer builds)',
    time_to_first_token: 'native',
    inter_token_latency: 'native',
    request_duration: 'native',
    request_queue: 'native',
    request_lengths: 'native ≈ (with `--collect-tokens-histogram`)',
    prompt_tokens: 'native',
    generation_tokens: 'native',
    request_outcomes: 'native: ok, aborted',
    prefix_cache: 'native',
    models: 'derived',
  },
  async identify(api) {
    if (await metricsMention(api, '/metrics', /^sglang[:_]/m)) return true;
    return (await modelInfo(api))?.model_path !== undefined;
  },
  async facts(api) {
    const [info, model] = await Promise.all([
      (await getJson(api, '/server_info', SERVER_INFO)) ??
        getJson(api, '/get_server_info', SERVER_INFO),
      modelInfo(api),
    ]);
    return {
      version: info?.version,
      model: info?.served_model_name ?? model?.model_path ?? info?.model_path,
      maxConcurrency: info?.max_running_requests,
    };
  },
  async read(api, facts, target) {
    const answer = await getMetrics(api, '/metrics');
    if (answer.ok) return mapSglang(answer.exposition, facts, target);
    const b = metricsOffReading(
      'sglang',
      target,
      answer.status,
      'start SGLang with --enable-metrics for its figures',
    );
    const model = modelName(facts.model);
    if (model) {
      b.gauge('models', M.MODEL_LOADED, model, 1, 'mean', { derived: true });
      if (facts.maxConcurrency !== undefined)
        b.gauge('max_concurrency', M.MAX_CONCURRENCY, model, facts.maxConcurrency);
    }
    return b.build();
  },
};

export function mapSglang(exposition: ParsedExposition, facts: Facts, target: string): Reading {
  const { b, view } = modelLabelledReading('sglang', exposition, facts, target, (labels) =>
    REPLICA_RANKS.some((rank) => labels[rank] !== undefined && labels[rank] !== '0')
      ? null
      : // The first releases with metrics called the label `name`.
        (labels.model_name ?? labels.name),
  );
  // The first releases with metrics (late 2024) named these num_requests_waiting and _running.
  b.fromGauge(
    'requests_waiting',
    M.REQUESTS_WAITING,
    view.gauge('sglang:num_queue_reqs', 'sglang:num_requests_waiting'),
    'sum',
  );
  b.fromGauge(
    'requests_running',
    M.REQUESTS_RUNNING,
    view.gauge('sglang:num_running_reqs', 'sglang:num_requests_running'),
    'sum',
  );
  b.fromGauge('kv_cache_usage', M.KV_CACHE_USAGE, view.gauge('sglang:token_usage'), 'mean');
  // Older builds have only the gauge sglang:num_retracted_reqs, which is not a count of events.
  b.fromCounter('preemptions', M.PREEMPTIONS, view.counter('sglang:num_retracted_requests'));
  b.fromHistogram(
    'time_to_first_token',
    M.TIME_TO_FIRST_TOKEN,
    view.histogram('sglang:time_to_first_token_seconds'),
  );
  b.fromHistogram(
    'inter_token_latency',
    M.INTER_TOKEN_LATENCY,
    view.histogram('sglang:inter_token_latency_seconds', 'sglang:time_per_output_token_seconds'),
  );
  b.fromHistogram(
    'request_duration',
    M.REQUEST_DURATION,
    view.histogram('sglang:e2e_request_latency_seconds'),
  );
  // Only with --collect-tokens-histogram, on the edges its --prompt-tokens-buckets and
  // --generation-tokens-buckets rules make.
  b.fromHistogram(
    'request_lengths',
    M.REQUEST_PROMPT_TOKENS,
    view.histogram('sglang:prompt_tokens_histogram'),
  );
  b.fromHistogram(
    'request_lengths',
    M.REQUEST_GENERATION_TOKENS,
    view.histogram('sglang:generation_tokens_histogram'),
  );
  b.fromHistogram(
    'request_queue',
    M.REQUEST_QUEUE,
    view.histogram('sglang:queue_time_seconds', 'sglang:waiting_request_latency_seconds'),
  );
  const prompt = view.counter('sglang:prompt_tokens');
  b.fromCounter('prompt_tokens', M.PROMPT_TOKENS, prompt);
  b.fromCounter('generation_tokens', M.GENERATION_TOKENS, view.counter('sglang:generation_tokens'));
  const cached = view.counter('sglang:cached_tokens');
  if (cached) {
    // SGLang looks every prompt token up in its radix cache.
    b.fromCounter('prefix_cache', M.PREFIX_CACHE_HITS, cached);
    b.fromCounter('prefix_cache', M.PREFIX_CACHE_QUERIES, prompt);
  }
  outcomes(b, view);
  // From /get_server_info where it says (its max_running_requests is null unless set on the
  // command line); else from the gauge the first releases with metrics exported.
  if (facts.maxConcurrency !== undefined) {
    for (const model of b.models)
      b.gauge('max_concurrency', M.MAX_CONCURRENCY, model, facts.maxConcurrency);
  } else
    b.fromGauge(
      'max_concurrency',
      M.MAX_CONCURRENCY,
      view.gauge('sglang:max_running_requests'),
      'sum',
    );
  loadedModels(b);
  return b.build();
}

/** Finished requests less aborted ones are the ones that finished normally. */
function outcomes(b: ReadingBuilder, view: MetricsView): void {
  const finished = view.counter('sglang:num_requests');
  if (!finished) return;
  const aborted = view.counter('sglang:num_aborted_requests');
  const abortedBy = new Map((aborted?.samples ?? []).map((s) => [labelKey(s.labels), s.value]));
  b.fromCounter('request_outcomes', M.REQUESTS, aborted, { extra: () => ({ outcome: 'aborted' }) });
  b.fromCounter(
    'request_outcomes',
    M.REQUESTS,
    {
      samples: finished.samples.map((s) => ({
        ...s,
        value: Math.max(0, s.value - (abortedBy.get(labelKey(s.labels)) ?? 0)),
      })),
    },
    { extra: () => ({ outcome: 'ok' }) },
  );
  b.startAtZero(M.REQUESTS, [{ outcome: 'ok' }, { outcome: 'aborted' }]);
}
