import { z } from 'zod';
import type { ParsedExposition } from '../../../core/prom-text.js';
import {
  getJson,
  getMetrics,
  lenientList,
  lenientObject,
  requireJson,
  type Facts,
  type RuntimeAdapter,
  type RuntimeApi,
} from '../adapter.js';
import { OPENAI_PATHS } from '../../../shared/generation-api.js';
import { loadOf } from '../load.js';
import * as M from '../metrics.js';
import { modelName } from '../../../shared/model-name.js';
import { ReadingBuilder, type Reading } from '../reading.js';
import { MetricsView } from '../view.js';
import { loadedModels, metricsOffReading } from './common.js';

const PROPS = lenientObject({
  total_slots: z.number(),
  model_alias: z.string(),
  model_path: z.string(),
  build_info: z.string(),
  default_generation_settings: z.unknown(),
});
const MODELS = lenientObject({ data: lenientList(lenientObject({ id: z.string() })) });

/**
 * The name clients ask for, the same the probe labels its runs with: the model list's id
 * (`--alias`, else the model's own name), then /props' alias, then its file.
 */
async function servedModel(
  api: RuntimeApi,
  props: z.output<typeof PROPS> | undefined,
): Promise<string | undefined> {
  const models = await getJson(api, '/v1/models', MODELS);
  return models?.data?.find((m) => m.id)?.id ?? props?.model_alias ?? props?.model_path;
}

export const llamacpp: RuntimeAdapter<'llamacpp'> = {
  kind: 'llamacpp',
  defaultPorts: [8080],
  title: 'llama.cpp',
  ownMetrics: { path: '/metrics', switchedOnBy: '--metrics' },
  generation: {
    probeApi: 'openai-chat',
    paths: [
      ...OPENAI_PATHS,
      ['/chat/completions', 'openai-chat'],
      ['/completions', 'openai-completions'],
      ['/completion', 'llamacpp-completion'],
      ['/infill', 'llamacpp-completion'],
    ],
    oneModel: true,
    queueFigures: true,
  },
  coverage: {
    requests_waiting: 'native',
    requests_running: 'native',
    max_concurrency: 'native (`/props` slots)',
    kv_cache_usage: 'native before May 2025 builds, else —',
    inter_token_latency: 'derived ≈ (mean: `generation_seconds_total`)',
    prompt_tokens: 'native (excludes cache reuse)',
    generation_tokens: 'native',
    models: 'derived',
  },
  // llamacpp:prompt_tokens_total counts n_prompt_tokens_processed: cached tokens are not in it.
  countsEvaluatedPromptTokens: true,
  async identify(api) {
    const props = await getJson(api, '/props', PROPS);
    return (
      props !== undefined &&
      (props.total_slots !== undefined || props.default_generation_settings !== undefined)
    );
  },
  async facts(api) {
    const props = await getJson(api, '/props', PROPS);
    return {
      version: props?.build_info,
      model: await servedModel(api, props),
      maxConcurrency: props?.total_slots,
    };
  },
  /**
   * Live load is busy slots and deferred requests. Not the KV cache: llama.cpp keeps each idle
   * slot's last prompt cached, so an idle server can read 90% full (and its KV gauges went
   * away in 2025).
   */
  liveLoad(reading) {
    const { kvCacheUsage, ...live } = loadOf(reading);
    return live;
  },
  async read(api, facts, target) {
    // /props is always there; /metrics only with --metrics. Neither leaks prompts (/slots does).
    const [props, answer] = await Promise.all([
      requireJson(api, '/props', PROPS),
      getMetrics(api, '/metrics'),
    ]);
    // The served name comes with the facts (refreshed every refresh_interval_s): asking
    // /v1/models on every read would double the requests for a name that changes on restart.
    const current = {
      ...facts,
      model: facts.model ?? props.model_alias ?? props.model_path,
      maxConcurrency: props.total_slots ?? facts.maxConcurrency,
    };
    if (answer.ok) return mapLlamacpp(answer.exposition, current, target);
    const b = metricsOffReading(
      'llamacpp',
      target,
      answer.status,
      'start llama-server with --metrics for token and queue figures',
    );
    fromProps(b, current);
    return b.build();
  },
};

function fromProps(b: ReadingBuilder, facts: Facts): string {
  const model = modelName(facts.model) ?? '';
  b.addModel(model);
  if (facts.maxConcurrency !== undefined)
    b.gauge('max_concurrency', M.MAX_CONCURRENCY, model, facts.maxConcurrency);
  loadedModels(b);
  return model;
}

/**
 * llama.cpp has counters and gauges only (no latency histograms, no request counter, and no
 * KV gauge since May 2025); no labels, one model per process. Its *_seconds throughput gauges
 * reset on every read and are not used.
 */
export function mapLlamacpp(exposition: ParsedExposition, facts: Facts, target: string): Reading {
  const view = new MetricsView(exposition);
  const model = modelName(facts.model) ?? '';
  const b = new ReadingBuilder('llamacpp', target, () => model);
  b.metricsSource = 'native';
  b.skippedLines = exposition.badLines;
  fromProps(b, facts);
  b.fromGauge(
    'requests_waiting',
    M.REQUESTS_WAITING,
    view.gauge('llamacpp:requests_deferred'),
    'sum',
  );
  b.fromGauge(
    'requests_running',
    M.REQUESTS_RUNNING,
    view.gauge('llamacpp:requests_processing'),
    'sum',
  );
  b.fromGauge(
    'kv_cache_usage',
    M.KV_CACHE_USAGE,
    view.gauge('llamacpp:kv_cache_usage_ratio'),
    'mean',
  );
  b.fromCounter('prompt_tokens', M.PROMPT_TOKENS, view.counter('llamacpp:prompt_tokens'));
  b.fromCounter(
    'generation_tokens',
    M.GENERATION_TOKENS,
    view.counter('llamacpp:tokens_predicted'),
  );
  const promptSeconds = view.counter('llamacpp:prompt_seconds');
  const generationSeconds = view.counter('llamacpp:tokens_predicted_seconds');
  // Mean time per generated token = rate(generation seconds) / rate(generation tokens).
  b.fromCounter('inter_token_latency', M.GENERATION_TIME, generationSeconds, {
    derived: true,
    approx: true,
  });
  b.fromCounter('prompt_tokens', M.PROMPT_PROCESSING_TIME, promptSeconds);
  return b.build();
}
