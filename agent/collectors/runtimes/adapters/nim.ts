import { z } from 'zod';
import type { ParsedExposition } from '../../../core/prom-text.js';
import {
  getJson,
  getMetrics,
  httpStatusError,
  lenientList,
  lenientObject,
  metricsMention,
  type Facts,
  type MetricsAnswer,
  type RuntimeAdapter,
  type RuntimeApi,
} from '../adapter.js';
import { OPENAI_PATHS } from '../../../shared/generation-api.js';
import * as M from '../metrics.js';
import { loadedModels, modelLabelledReading } from './common.js';
import type { Reading } from '../reading.js';

const MODELS = lenientObject({ data: lenientList(lenientObject({ id: z.string() })) });
const VERSION = lenientObject({ release: z.string(), api: z.string() });

/** NIM's own names: vLLM V0's without the `vllm:` prefix. */
const NIM_MARKER = /^(?:num_requests_running|gpu_cache_usage_perc|num_request_max)\b/m;

async function nimMetrics(api: RuntimeApi): Promise<MetricsAnswer> {
  // /v1/metrics since 24.06; 24.05 and older served /metrics.
  const answer = await getMetrics(api, '/v1/metrics');
  return answer.ok ? answer : getMetrics(api, '/metrics');
}

export const nim: RuntimeAdapter<'nim'> = {
  kind: 'nim',
  defaultPorts: [8000],
  title: 'NIM',
  ownMetrics: { path: '/v1/metrics' },
  generation: { probeApi: 'openai-chat', paths: OPENAI_PATHS, queueFigures: true },
  coverage: {
    requests_waiting: 'native',
    requests_running: 'native',
    max_concurrency: 'native',
    kv_cache_usage: 'native',
    preemptions: 'native where shown',
    time_to_first_token: 'native',
    inter_token_latency: 'native ≈',
    request_duration: 'native',
    request_queue: 'native where shown',
    prompt_tokens: 'native',
    generation_tokens: 'native',
    request_outcomes: 'native: ok, error',
    models: 'derived',
  },
  async identify(api) {
    return (
      (await metricsMention(api, '/v1/metrics', NIM_MARKER)) ||
      metricsMention(api, '/metrics', NIM_MARKER)
    );
  },
  async facts(api) {
    const [models, version] = await Promise.all([
      getJson(api, '/v1/models', MODELS),
      getJson(api, '/v1/version', VERSION),
    ]);
    return {
      version: version?.release ?? version?.api,
      model: models?.data?.find((m) => m.id)?.id,
    };
  },
  async read(api, facts, target) {
    const answer = await nimMetrics(api);
    if (!answer.ok) throw httpStatusError('/v1/metrics', answer.status);
    return mapNim(answer.exposition, facts, target);
  },
};

/** Each concept by its NIM name, then by the name its vLLM backend may show instead. */
const names = (name: string) => [name, `vllm:${name}`];

export function mapNim(exposition: ParsedExposition, facts: Facts, target: string): Reading {
  const { b, view } = modelLabelledReading('nim', exposition, facts, target);
  b.fromGauge(
    'requests_waiting',
    M.REQUESTS_WAITING,
    view.gauge(...names('num_requests_waiting')),
    'sum',
  );
  b.fromGauge(
    'requests_running',
    M.REQUESTS_RUNNING,
    view.gauge(...names('num_requests_running')),
    'sum',
  );
  b.fromGauge('max_concurrency', M.MAX_CONCURRENCY, view.gauge('num_request_max'), 'sum');
  b.fromGauge(
    'kv_cache_usage',
    M.KV_CACHE_USAGE,
    view.gauge(...names('kv_cache_usage_perc'), ...names('gpu_cache_usage_perc')),
    'mean',
  );
  b.fromHistogram(
    'time_to_first_token',
    M.TIME_TO_FIRST_TOKEN,
    view.histogram(...names('time_to_first_token_seconds')),
  );
  b.fromHistogram(
    'inter_token_latency',
    M.INTER_TOKEN_LATENCY,
    view.histogram(
      ...names('inter_token_latency_seconds'),
      ...names('time_per_output_token_seconds'),
    ),
    { approx: true },
  );
  b.fromHistogram(
    'request_duration',
    M.REQUEST_DURATION,
    view.histogram(...names('e2e_request_latency_seconds')),
  );
  b.fromHistogram(
    'request_queue',
    M.REQUEST_QUEUE,
    view.histogram(...names('request_queue_time_seconds')),
  );
  b.fromCounter('prompt_tokens', M.PROMPT_TOKENS, view.counter(...names('prompt_tokens')));
  b.fromCounter(
    'generation_tokens',
    M.GENERATION_TOKENS,
    view.counter(...names('generation_tokens')),
  );
  b.fromCounter('preemptions', M.PREEMPTIONS, view.counter(...names('num_preemptions')));
  // NIM's success counts stop and length only; failure is every other finish reason.
  const success = view.counter('request_success');
  const failure = view.counter('request_failure');
  if (success || failure) {
    b.fromCounter('request_outcomes', M.REQUESTS, success, { extra: () => ({ outcome: 'ok' }) });
    b.fromCounter('request_outcomes', M.REQUESTS, failure, { extra: () => ({ outcome: 'error' }) });
    b.startAtZero(
      M.REQUESTS,
      ['ok', 'error'].map((outcome) => ({ outcome })),
    );
  }
  loadedModels(b);
  return b.build();
}
