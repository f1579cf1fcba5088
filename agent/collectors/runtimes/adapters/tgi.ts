import { z } from 'zod';
import type { ParsedExposition } from '../../../core/prom-text.js';
import {
  getJson,
  getMetrics,
  httpStatusError,
  lenientObject,
  type Facts,
  type RuntimeAdapter,
} from '../adapter.js';
import { OPENAI_PATHS } from '../../../shared/generation-api.js';
import * as M from '../metrics.js';
import { modelName } from '../../../shared/model-name.js';
import { ReadingBuilder, type Reading } from '../reading.js';
import { MetricsView } from '../view.js';
import { loadedModels } from './common.js';

const INFO = lenientObject({
  model_id: z.string(),
  version: z.string(),
  max_concurrent_requests: z.number(),
  router: z.string(),
});

export const tgi: RuntimeAdapter<'tgi'> = {
  kind: 'tgi',
  defaultPorts: [3000, 8080],
  title: 'TGI',
  ownMetrics: { path: '/metrics' },
  generation: {
    probeApi: 'openai-chat',
    paths: [...OPENAI_PATHS, ['/generate', undefined], ['/generate_stream', undefined]],
    oneModel: true,
    queueFigures: true,
  },
  coverage: {
    requests_waiting: 'native',
    requests_running: 'native',
    max_concurrency: 'native (`/info`)',
    kv_cache_usage: 'derived ≈ (token budget)',
    inter_token_latency: 'derived ≈ (decode batch step)',
    request_duration: 'native (successful only)',
    request_queue: 'native',
    prompt_tokens: 'derived ≈ (input-length sum)',
    generation_tokens: 'derived ≈ (successful only)',
    request_outcomes: 'native: ok, error, rejected',
    models: 'derived',
  },
  async identify(api) {
    const info = await getJson(api, '/info', INFO);
    return (
      info?.model_id !== undefined &&
      (info.router !== undefined || info.max_concurrent_requests !== undefined)
    );
  },
  async facts(api) {
    const info = await getJson(api, '/info', INFO);
    return {
      version: info?.version,
      model: info?.model_id,
      maxConcurrency: info?.max_concurrent_requests,
    };
  },
  async read(api, facts, target) {
    const answer = await getMetrics(api, '/metrics');
    if (!answer.ok) throw httpStatusError('/metrics', answer.status);
    return mapTgi(answer.exposition, facts, target);
  },
};

/**
 * TGI's metrics carry no labels at all: the model comes from /info. Its counters have no
 * `_total`, it has no TTFT, no KV gauge and no prompt-token counter.
 */
export function mapTgi(exposition: ParsedExposition, facts: Facts, target: string): Reading {
  const view = new MetricsView(exposition);
  const model = modelName(facts.model) ?? '';
  const b = new ReadingBuilder('tgi', target, () => model);
  b.metricsSource = 'native';
  b.skippedLines = exposition.badLines;
  b.addModel(model);
  b.fromGauge('requests_waiting', M.REQUESTS_WAITING, view.gauge('tgi_queue_size'), 'sum');
  b.fromGauge('requests_running', M.REQUESTS_RUNNING, view.gauge('tgi_batch_current_size'), 'sum');
  if (facts.maxConcurrency !== undefined)
    b.gauge('max_concurrency', M.MAX_CONCURRENCY, model, facts.maxConcurrency);
  // Token budget reserved by the running batch over the budget's size: not KV blocks in use.
  const reserved = view.gauge('tgi_batch_current_max_tokens')?.samples[0]?.value;
  const budget = view.gauge('tgi_batch_max_total_tokens')?.samples[0]?.value;
  if (reserved !== undefined && budget !== undefined && budget > 0)
    b.gauge('kv_cache_usage', M.KV_CACHE_USAGE, model, reserved / budget, 'mean', {
      derived: true,
      approx: true,
    });
  // A decode step of the batch: each running request gets one token per step.
  const decode = view.histogram('tgi_batch_inference_duration');
  if (decode) {
    b.fromHistogram(
      'inter_token_latency',
      M.INTER_TOKEN_LATENCY,
      { series: decode.series.filter((s) => s.labels.method === 'decode') },
      { derived: true, approx: true },
    );
  }
  b.fromHistogram('request_duration', M.REQUEST_DURATION, view.histogram('tgi_request_duration'));
  b.fromHistogram('request_queue', M.REQUEST_QUEUE, view.histogram('tgi_request_queue_duration'));
  // Token totals only as histogram sums: input length is recorded at validation, so it also
  // counts requests that fail later; generated tokens count successful requests only.
  sumAsCounter(b, view, 'prompt_tokens', M.PROMPT_TOKENS, 'tgi_request_input_length');
  sumAsCounter(b, view, 'generation_tokens', M.GENERATION_TOKENS, 'tgi_request_generated_tokens');
  const success = view.counter('tgi_request_success');
  const failure = view.counter('tgi_request_failure');
  if (success || failure) {
    b.fromCounter('request_outcomes', M.REQUESTS, success, { extra: () => ({ outcome: 'ok' }) });
    b.fromCounter('request_outcomes', M.REQUESTS, failure, {
      extra: (labels) => ({ outcome: labels.err === 'overloaded' ? 'rejected' : 'error' }),
    });
    b.startAtZero(
      M.REQUESTS,
      ['ok', 'error', 'rejected'].map((outcome) => ({ outcome })),
    );
  }
  loadedModels(b);
  return b.build();
}

function sumAsCounter(
  b: ReadingBuilder,
  view: MetricsView,
  concept: 'prompt_tokens' | 'generation_tokens',
  def: typeof M.PROMPT_TOKENS,
  name: string,
): void {
  const found = view.histogram(name);
  if (!found) return;
  b.mark(concept, 'derived', true);
  for (const series of found.series)
    b.counter(concept, def, b.models[0] ?? '', `${def.name}|${name}_sum`, series.sum, undefined, {
      derived: true,
      approx: true,
    });
  b.startAtZero(def, [undefined]);
}
