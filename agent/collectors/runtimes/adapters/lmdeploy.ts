import type { ParsedExposition } from '../../../core/prom-text.js';
import { OPENAI_PATHS } from '../../../shared/generation-api.js';
import {
  getJson,
  getMetrics,
  metricsMention,
  type Facts,
  type RuntimeAdapter,
} from '../adapter.js';
import * as M from '../metrics.js';
import { modelName } from '../../../shared/model-name.js';
import { type Reading } from '../reading.js';
import {
  OPENAI_MODEL_LIST,
  loadedModels,
  metricsOffReading,
  modelLabelledReading,
} from './common.js';

const MODELS = OPENAI_MODEL_LIST;

/**
 * LMDeploy's finish reasons (its ResponseType, printed as `ResponseType.NAME`): every finished
 * request is counted under one, in a counter it calls request_success_total.
 */
const OUTCOME_BY_RESPONSE: Readonly<Record<string, string>> = {
  FINISH: 'ok',
  SUCCESS: 'ok',
  CANCEL: 'aborted',
  NO_QUEUE: 'rejected',
};
const LMDEPLOY_OUTCOMES = ['ok', 'aborted', 'rejected', 'error'].map((outcome) => ({ outcome }));

function outcomeOf(finishedReason: string | undefined): string {
  const name = (finishedReason ?? '').replace(/^ResponseType\./, '');
  return OUTCOME_BY_RESPONSE[name] ?? 'error';
}

/**
 * LMDeploy's OpenAI-compatible server (`lmdeploy serve api_server`, port 23333). Its metrics,
 * with `--enable-metrics`, follow vLLM V1's under the `lmdeploy:` prefix, labelled `model_name`
 * and `engine` (the data-parallel rank).
 */
export const lmdeploy: RuntimeAdapter<'lmdeploy'> = {
  kind: 'lmdeploy',
  defaultPorts: [23333],
  title: 'LMDeploy',
  ownMetrics: { path: '/metrics', switchedOnBy: '--enable-metrics' },
  generation: {
    probeApi: 'openai-chat',
    paths: [...OPENAI_PATHS, ['/generate', undefined]],
    queueFigures: true,
  },
  coverage: {
    requests_waiting: 'native (the engine queue and the API server queue)',
    requests_running: 'native',
    kv_cache_usage: 'native',
    time_to_first_token: 'native',
    inter_token_latency: 'native ≈ (per output step)',
    request_duration: 'native',
    request_queue: 'native',
    prompt_tokens: 'native',
    generation_tokens: 'native',
    request_outcomes: 'native: ok, aborted, rejected, error',
    prefix_cache: 'native (hits only)',
    models: 'derived',
  },
  async identify(api) {
    if (await metricsMention(api, '/metrics', /^lmdeploy:/m)) return true;
    const models = await getJson(api, '/v1/models', MODELS);
    return models?.data?.some((m) => m.owned_by === 'lmdeploy') ?? false;
  },
  async facts(api) {
    // LMDeploy serves no version endpoint.
    const models = await getJson(api, '/v1/models', MODELS);
    return { model: models?.data?.find((m) => m.id)?.id };
  },
  async read(api, facts, target) {
    const answer = await getMetrics(api, '/metrics');
    if (answer.ok) return mapLmdeploy(answer.exposition, facts, target);
    const b = metricsOffReading(
      'lmdeploy',
      target,
      answer.status,
      'start LMDeploy with --enable-metrics for its figures',
    );
    const model = modelName(facts.model);
    if (model) b.gauge('models', M.MODEL_LOADED, model, 1, 'mean', { derived: true });
    return b.build();
  },
};

export function mapLmdeploy(exposition: ParsedExposition, facts: Facts, target: string): Reading {
  const { b, view } = modelLabelledReading('lmdeploy', exposition, facts, target);
  // Waiting for the engine, and before it for a free request handle of the API server.
  b.fromGauge(
    'requests_waiting',
    M.REQUESTS_WAITING,
    view.gauge('lmdeploy:num_requests_waiting'),
    'sum',
  );
  b.fromGauge(
    'requests_waiting',
    M.REQUESTS_WAITING,
    view.gauge('lmdeploy:num_api_requests_waiting'),
    'sum',
  );
  b.fromGauge(
    'requests_running',
    M.REQUESTS_RUNNING,
    view.gauge('lmdeploy:num_requests_running'),
    'sum',
  );
  b.fromGauge(
    'kv_cache_usage',
    M.KV_CACHE_USAGE,
    view.gauge('lmdeploy:gpu_cache_usage_perc'),
    'mean',
  );
  b.fromHistogram(
    'time_to_first_token',
    M.TIME_TO_FIRST_TOKEN,
    view.histogram('lmdeploy:time_to_first_token_seconds'),
  );
  // One observation per output step (several tokens under speculative decoding), as vLLM's.
  b.fromHistogram(
    'inter_token_latency',
    M.INTER_TOKEN_LATENCY,
    view.histogram('lmdeploy:iter_token_latency'),
    { approx: true },
  );
  b.fromHistogram(
    'request_duration',
    M.REQUEST_DURATION,
    view.histogram('lmdeploy:e2e_request_latency_seconds'),
  );
  b.fromHistogram(
    'request_queue',
    M.REQUEST_QUEUE,
    view.histogram('lmdeploy:request_queue_time_seconds'),
  );
  b.fromCounter('prompt_tokens', M.PROMPT_TOKENS, view.counter('lmdeploy:prompt_tokens'));
  b.fromCounter(
    'generation_tokens',
    M.GENERATION_TOKENS,
    view.counter('lmdeploy:generation_tokens'),
  );
  if (
    b.fromCounter('request_outcomes', M.REQUESTS, view.counter('lmdeploy:request_success'), {
      extra: (labels) => ({ outcome: outcomeOf(labels.finished_reason) }),
    })
  )
    b.startAtZero(M.REQUESTS, LMDEPLOY_OUTCOMES);
  // Prompt tokens served from the prefix cache; LMDeploy counts no queries beside them.
  b.fromCounter('prefix_cache', M.PREFIX_CACHE_HITS, view.counter('lmdeploy:cached_tokens'));
  loadedModels(b);
  return b.build();
}
