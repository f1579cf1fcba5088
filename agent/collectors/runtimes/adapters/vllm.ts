import { z } from 'zod';
import type { ParsedExposition } from '../../../core/prom-text.js';
import {
  getJson,
  getMetrics,
  httpStatusError,
  lenientObject,
  metricsMention,
  type Facts,
  type RuntimeAdapter,
} from '../adapter.js';
import { OPENAI_PATHS } from '../../../shared/generation-api.js';
import * as M from '../metrics.js';
import { OPENAI_MODEL_LIST, loadedModels, modelLabelledReading } from './common.js';
import type { Reading, ReadingBuilder } from '../reading.js';
import type { MetricsView } from '../view.js';

const VERSION = lenientObject({ version: z.string() });
const MODELS = OPENAI_MODEL_LIST;

/**
 * vLLM's finish reasons: a "success" counter that counts every finished request. The reason is
 * kept beside the outcome it maps to, so "stop" and "length" (cut at max_tokens) stay apart.
 */
const OUTCOME_BY_FINISH_REASON: Readonly<Record<string, string>> = {
  stop: 'ok',
  length: 'ok',
  repetition: 'ok',
  abort: 'aborted',
  error: 'error',
};
const VLLM_OUTCOMES = ['stop', 'length', 'abort', 'error'].map((reason) => ({
  outcome: OUTCOME_BY_FINISH_REASON[reason] as string,
  finish_reason: reason,
}));

export const vllm: RuntimeAdapter<'vllm'> = {
  kind: 'vllm',
  defaultPorts: [8000],
  title: 'vLLM',
  ownMetrics: { path: '/metrics' },
  generation: { probeApi: 'openai-chat', paths: OPENAI_PATHS, queueFigures: true },
  coverage: {
    requests_waiting: 'native',
    requests_running: 'native',
    kv_cache_usage: 'native',
    preemptions: 'native',
    time_to_first_token: 'native',
    inter_token_latency: 'native ≈ (per output step)',
    request_duration: 'native',
    request_queue: 'native',
    prompt_tokens: 'native',
    generation_tokens: 'native',
    request_phases: 'native',
    request_lengths: 'native',
    request_outcomes: 'native: ok, aborted, error; finish reasons stop, length, abort, error',
    prefix_cache: "native (0.8's block counts left out)",
    models: 'derived',
  },
  async identify(api) {
    if (await metricsMention(api, '/metrics', /^vllm[:_]/m)) return true;
    const models = await getJson(api, '/v1/models', MODELS);
    return models?.data?.some((m) => m.owned_by === 'vllm') ?? false;
  },
  async facts(api) {
    const [version, models] = await Promise.all([
      getJson(api, '/version', VERSION),
      getJson(api, '/v1/models', MODELS),
    ]);
    return { version: version?.version, model: models?.data?.find((m) => m.id)?.id };
  },
  async read(api, facts, target) {
    // vLLM always serves /metrics: a 404 is a failure, not metrics switched off.
    const answer = await getMetrics(api, '/metrics');
    if (!answer.ok) throw httpStatusError('/metrics', answer.status);
    return mapVllm(answer.exposition, facts, target);
  },
};

/**
 * vLLM V1 names first, then V0 and deprecated ones, one name per concept: 0.9 to 0.12 can show
 * the old and the new name at once, fed the same observations.
 */
export function mapVllm(exposition: ParsedExposition, facts: Facts, target: string): Reading {
  const { b, view } = modelLabelledReading('vllm', exposition, facts, target);
  b.fromGauge(
    'requests_waiting',
    M.REQUESTS_WAITING,
    view.gauge('vllm:num_requests_waiting'),
    'sum',
  );
  b.fromGauge(
    'requests_running',
    M.REQUESTS_RUNNING,
    view.gauge('vllm:num_requests_running'),
    'sum',
  );
  b.fromGauge(
    'kv_cache_usage',
    M.KV_CACHE_USAGE,
    view.gauge('vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'),
    'mean',
  );
  b.fromCounter('preemptions', M.PREEMPTIONS, view.counter('vllm:num_preemptions'));
  b.fromHistogram(
    'time_to_first_token',
    M.TIME_TO_FIRST_TOKEN,
    view.histogram('vllm:time_to_first_token_seconds'),
  );
  // One observation per output step: several tokens under speculative decoding.
  b.fromHistogram(
    'inter_token_latency',
    M.INTER_TOKEN_LATENCY,
    view.histogram('vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'),
    { approx: true },
  );
  b.fromHistogram(
    'request_duration',
    M.REQUEST_DURATION,
    view.histogram('vllm:e2e_request_latency_seconds'),
  );
  b.fromHistogram(
    'request_queue',
    M.REQUEST_QUEUE,
    view.histogram('vllm:request_queue_time_seconds'),
  );
  b.fromHistogram(
    'request_phases',
    M.REQUEST_PREFILL,
    view.histogram('vllm:request_prefill_time_seconds'),
  );
  b.fromHistogram(
    'request_phases',
    M.REQUEST_DECODE,
    view.histogram('vllm:request_decode_time_seconds'),
  );
  b.fromHistogram(
    'request_lengths',
    M.REQUEST_PROMPT_TOKENS,
    view.histogram('vllm:request_prompt_tokens'),
  );
  b.fromHistogram(
    'request_lengths',
    M.REQUEST_GENERATION_TOKENS,
    view.histogram('vllm:request_generation_tokens'),
  );
  b.fromCounter('prompt_tokens', M.PROMPT_TOKENS, view.counter('vllm:prompt_tokens'));
  b.fromCounter('generation_tokens', M.GENERATION_TOKENS, view.counter('vllm:generation_tokens'));
  if (
    b.fromCounter('request_outcomes', M.REQUESTS, view.counter('vllm:request_success'), {
      extra: (labels) => {
        const reason = labels.finished_reason ?? '';
        // Bounded: a reason vLLM adds later is counted as ok, its reason "other".
        const known = Object.hasOwn(OUTCOME_BY_FINISH_REASON, reason);
        return {
          outcome: known ? (OUTCOME_BY_FINISH_REASON[reason] as string) : 'ok',
          finish_reason: known ? reason : 'other',
        };
      },
    })
  )
    b.startAtZero(M.REQUESTS, VLLM_OUTCOMES);
  prefixCache(b, view);
  loadedModels(b);
  return b.build();
}

/**
 * Prefix-cache hits and queries, in tokens or not at all. The pair named since 0.10 counts
 * tokens; the deprecated gpu_ pair before it counted blocks in 0.8 and tokens later, and only
 * its HELP text tells which. A figure in blocks under a _tokens_total name would be wrong by
 * the block size, so a pair not known to count tokens is left out, and said so.
 */
function prefixCache(b: ReadingBuilder, view: MetricsView): void {
  const modern =
    view.counter('vllm:prefix_cache_hits') ?? view.counter('vllm:prefix_cache_queries');
  const prefix = modern ? 'vllm:prefix_cache' : 'vllm:gpu_prefix_cache';
  const hits = view.counter(`${prefix}_hits`);
  const queries = view.counter(`${prefix}_queries`);
  if (!hits && !queries) return;
  // 0.10 printed "queriedtokens", run together.
  const inTokens = [hits, queries].every((c) => {
    if (c === undefined) return true;
    const help = c.family.help;
    if (help === undefined) return modern !== undefined;
    return /token/i.test(help) && !/block/i.test(help);
  });
  if (!inTokens) {
    b.notes.push(
      'this vLLM counts prefix-cache hits and queries in blocks (or does not say): they are left out, as the normalized families count tokens',
    );
    return;
  }
  b.fromCounter('prefix_cache', M.PREFIX_CACHE_HITS, hits);
  b.fromCounter('prefix_cache', M.PREFIX_CACHE_QUERIES, queries);
}
