import type { ParsedExposition, ParsedSample } from '../../../core/prom-text.js';
import {
  getMetrics,
  httpStatusError,
  metricsMention,
  type Facts,
  type RuntimeAdapter,
} from '../adapter.js';
import * as M from '../metrics.js';
import { modelName } from '../../../shared/model-name.js';
import { ReadingBuilder, type Reading } from '../reading.js';
import { MetricsView } from '../view.js';
import { loadedModels } from './common.js';

/** Triton's failure reasons (2.40 and later); older servers have no reason label. */
const OUTCOME_BY_FAILURE: Readonly<Record<string, string>> = {
  REJECTED: 'rejected',
  CANCELED: 'aborted',
};

export const triton: RuntimeAdapter<'triton'> = {
  kind: 'triton',
  defaultPorts: [8002],
  title: 'Triton',
  ownMetrics: { path: '/metrics' },
  generation: {
    // The address the agent reads is Triton's metrics port: it serves no generations.
    probeApi: undefined,
    paths: [[/^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/generate(?:_stream)?$/, undefined]],
    queueFigures: true,
  },
  coverage: {
    requests_waiting: 'native (`waiting`, else pending count)',
    requests_running: 'native (`scheduled`)',
    max_concurrency: 'native (`max`)',
    kv_cache_usage: 'native (`fraction`), else derived (used/max)',
    time_to_first_token: 'native ≈ (opt-in; first chunk, ms)',
    request_duration: 'derived (mean: `request_time_seconds_total`)',
    request_queue: 'derived (mean: `queue_time_seconds_total`)',
    request_outcomes: 'native: ok, error, rejected, aborted',
    models: 'derived, TRT-LLM GPU bytes',
  },
  identify(api) {
    return metricsMention(api, '/metrics', /^nv_inference_/m);
  },
  facts() {
    // The metrics port serves /metrics only; the version is on the HTTP port, not read.
    return Promise.resolve({});
  },
  async read(api, facts, target) {
    const answer = await getMetrics(api, '/metrics');
    if (!answer.ok) throw httpStatusError('/metrics', answer.status);
    return mapTriton(answer.exposition, facts, target);
  },
};

const byLabel = (
  found: { samples: readonly ParsedSample[] } | undefined,
  name: string,
  value: string,
) => (found ? { samples: found.samples.filter((s) => s.labels[name] === value) } : undefined);

const nonEmpty = (found: { samples: readonly ParsedSample[] } | undefined) =>
  found && found.samples.length > 0 ? found : undefined;

/**
 * Triton core (nv_inference_*, per model and version) plus the TensorRT-LLM backend's
 * per-iteration gauges (nv_trt_llm_*). Counters carry no `_total`; durations are cumulative
 * microseconds; the first-response histogram is in milliseconds and measures the first chunk.
 */
export function mapTriton(exposition: ParsedExposition, _facts: Facts, target: string): Reading {
  const view = new MetricsView(exposition);
  const b = new ReadingBuilder('triton', target, (labels) => modelName(labels.model) ?? '');
  b.metricsSource = 'native';
  b.skippedLines = exposition.badLines;
  const requests = view.gauge('nv_trt_llm_request_metrics');
  const waiting = nonEmpty(byLabel(requests, 'request_type', 'waiting'));
  if (!b.fromGauge('requests_waiting', M.REQUESTS_WAITING, waiting, 'sum'))
    b.fromGauge(
      'requests_waiting',
      M.REQUESTS_WAITING,
      view.gauge('nv_inference_pending_request_count'),
      'sum',
    );
  b.fromGauge(
    'requests_running',
    M.REQUESTS_RUNNING,
    nonEmpty(byLabel(requests, 'request_type', 'scheduled')) ??
      nonEmpty(byLabel(requests, 'request_type', 'active')),
    'sum',
  );
  b.fromGauge(
    'max_concurrency',
    M.MAX_CONCURRENCY,
    nonEmpty(byLabel(requests, 'request_type', 'max')),
    'sum',
  );
  const blocks = view.gauge('nv_trt_llm_kv_cache_block_metrics');
  if (
    !b.fromGauge(
      'kv_cache_usage',
      M.KV_CACHE_USAGE,
      nonEmpty(byLabel(blocks, 'kv_cache_block_type', 'fraction')),
      'mean',
    )
  )
    kvFromBlocks(b, blocks?.samples ?? []);
  b.fromHistogram(
    'time_to_first_token',
    M.TIME_TO_FIRST_TOKEN,
    view.histogram('nv_inference_first_response_histogram_ms'),
    { scale: 1e-3, approx: true },
  );
  b.fromCounter(
    'request_duration',
    M.REQUEST_TIME,
    view.counter('nv_inference_request_duration_us'),
    {
      scale: 1e-6,
      derived: true,
    },
  );
  b.fromCounter('request_queue', M.QUEUE_TIME, view.counter('nv_inference_queue_duration_us'), {
    scale: 1e-6,
    derived: true,
  });
  const success = view.counter('nv_inference_request_success');
  const failure = view.counter('nv_inference_request_failure');
  if (success || failure) {
    b.fromCounter('request_outcomes', M.REQUESTS, success, { extra: () => ({ outcome: 'ok' }) });
    b.fromCounter('request_outcomes', M.REQUESTS, failure, {
      extra: (labels) => ({ outcome: OUTCOME_BY_FAILURE[labels.reason ?? ''] ?? 'error' }),
    });
    b.startAtZero(
      M.REQUESTS,
      ['ok', 'error'].map((outcome) => ({ outcome })),
    );
  }
  for (const s of byLabel(view.gauge('nv_trt_llm_runtime_memory_metrics'), 'memory_type', 'gpu')
    ?.samples ?? [])
    b.gaugeWithLabels(M.MODEL_MEMORY, modelName(s.labels.model) ?? '', s.value, {
      location: 'vram',
    });
  loadedModels(b);
  return b.build();
}

/** Older TensorRT-LLM backends have no `fraction`: used blocks over the maximum. */
function kvFromBlocks(b: ReadingBuilder, samples: readonly ParsedSample[]): void {
  const byModel = new Map<string, { used?: number; max?: number }>();
  for (const s of samples) {
    const model = modelName(s.labels.model) ?? '';
    const entry = byModel.get(model) ?? {};
    if (s.labels.kv_cache_block_type === 'used') entry.used = s.value;
    if (s.labels.kv_cache_block_type === 'max') entry.max = s.value;
    byModel.set(model, entry);
  }
  for (const [model, { used, max }] of byModel) {
    if (used !== undefined && max !== undefined && max > 0)
      b.gauge('kv_cache_usage', M.KV_CACHE_USAGE, model, used / max, 'mean', { derived: true });
  }
}
