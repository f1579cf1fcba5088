import type { InferenceEngine } from './engine.js';
import type { Histogram } from './histogram.js';

export type SimulatedKind = 'vllm' | 'sglang';

/** One family a runtime exports: a value of the engine, or one of its histograms. */
type Family =
  | {
      readonly type: 'gauge' | 'counter';
      readonly name: string;
      readonly help: string;
      readonly value: (e: InferenceEngine) => number;
    }
  | {
      readonly type: 'histogram';
      readonly name: string;
      readonly help: string;
      readonly histogram: (e: InferenceEngine) => Histogram;
    };

interface Dialect {
  /** The labels every series carries, the model's included. */
  readonly labels: (model: string) => string;
  readonly families: readonly Family[];
  /** Finished requests, as this runtime splits them. */
  readonly outcomes: (e: InferenceEngine, labels: string) => string[];
}

const gauge = (name: string, help: string, value: (e: InferenceEngine) => number): Family => ({
  type: 'gauge',
  name,
  help,
  value,
});
const counter = (name: string, help: string, value: (e: InferenceEngine) => number): Family => ({
  type: 'counter',
  name,
  help,
  value,
});
const histogram = (name: string, help: string, of: (e: InferenceEngine) => Histogram): Family => ({
  type: 'histogram',
  name,
  help,
  histogram: of,
});

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const header = (type: string, name: string, help: string) => [
  `# HELP ${name} ${help}`,
  `# TYPE ${name} ${type}`,
];

/** vLLM V1's /metrics (0.10 and later names), one engine. */
const VLLM: Dialect = {
  labels: (model) => `engine="0",model_name="${escape(model)}"`,
  families: [
    gauge(
      'vllm:num_requests_running',
      'Number of requests in model execution batches.',
      (e) => e.running,
    ),
    gauge(
      'vllm:num_requests_waiting',
      'Number of requests waiting to be processed.',
      (e) => e.waiting,
    ),
    gauge(
      'vllm:kv_cache_usage_perc',
      'KV-cache usage. 1 means 100 percent usage.',
      (e) => e.kvCacheUsage,
    ),
    counter(
      'vllm:num_preemptions_total',
      'Cumulative number of preemption from the engine.',
      (e) => e.preemptions,
    ),
    counter(
      'vllm:prompt_tokens_total',
      'Number of prefill tokens processed.',
      (e) => e.promptTokens,
    ),
    counter(
      'vllm:generation_tokens_total',
      'Number of generation tokens processed.',
      (e) => e.generationTokens,
    ),
    counter(
      'vllm:prefix_cache_queries_total',
      'Prefix cache queries, in terms of number of queried tokens.',
      (e) => e.prefixQueries,
    ),
    counter(
      'vllm:prefix_cache_hits_total',
      'Prefix cache hits, in terms of number of cached tokens.',
      (e) => e.prefixHits,
    ),
    histogram(
      'vllm:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      (e) => e.ttft,
    ),
    histogram(
      'vllm:inter_token_latency_seconds',
      'Histogram of inter-token latency in seconds.',
      (e) => e.interToken,
    ),
    histogram(
      'vllm:e2e_request_latency_seconds',
      'Histogram of e2e request latency in seconds.',
      (e) => e.e2e,
    ),
    histogram(
      'vllm:request_queue_time_seconds',
      'Histogram of time spent in WAITING phase for request.',
      (e) => e.queue,
    ),
    histogram(
      'vllm:request_prefill_time_seconds',
      'Histogram of time spent in PREFILL phase for request.',
      (e) => e.prefill,
    ),
    histogram(
      'vllm:request_decode_time_seconds',
      'Histogram of time spent in DECODE phase for request.',
      (e) => e.decode,
    ),
    histogram(
      'vllm:request_prompt_tokens',
      'Number of prefill tokens processed.',
      (e) => e.promptLength,
    ),
    histogram(
      'vllm:request_generation_tokens',
      'Number of generation tokens processed.',
      (e) => e.generationLength,
    ),
  ],
  // vLLM's "success" counter counts every finished request, by finish reason.
  outcomes: (e, labels) => [
    ...header('counter', 'vllm:request_success_total', 'Count of successfully processed requests.'),
    ...Object.entries(e.finished).map(
      ([reason, n]) => `vllm:request_success_total{${labels},finished_reason="${reason}"} ${n}`,
    ),
  ],
};

/** SGLang's /metrics (--enable-metrics), tensor-parallel rank 0. */
const SGLANG: Dialect = {
  labels: (model) => `model_name="${escape(model)}"`,
  families: [
    gauge('sglang:num_running_reqs', 'The number of running requests.', (e) => e.running),
    gauge(
      'sglang:num_queue_reqs',
      'The number of requests in the waiting queue.',
      (e) => e.waiting,
    ),
    gauge('sglang:token_usage', 'The token usage.', (e) => e.kvCacheUsage),
    counter(
      'sglang:num_retracted_requests_total',
      'Number of retracted requests.',
      (e) => e.preemptions,
    ),
    counter(
      'sglang:prompt_tokens_total',
      'Number of prefill tokens processed.',
      (e) => e.promptTokens,
    ),
    counter(
      'sglang:generation_tokens_total',
      'Number of generation tokens processed.',
      (e) => e.generationTokens,
    ),
    counter('sglang:cached_tokens_total', 'Number of cached prompt tokens.', (e) => e.prefixHits),
    histogram(
      'sglang:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      (e) => e.ttft,
    ),
    histogram(
      'sglang:inter_token_latency_seconds',
      'Histogram of inter-token latency in seconds.',
      (e) => e.interToken,
    ),
    histogram(
      'sglang:e2e_request_latency_seconds',
      'Histogram of End-to-end request latency in seconds',
      (e) => e.e2e,
    ),
    histogram(
      'sglang:queue_time_seconds',
      'Histogram of queueing time in seconds.',
      (e) => e.queue,
    ),
  ],
  // SGLang counts all finished requests, and the aborted ones apart; it has no error count.
  outcomes: (e, labels) => [
    ...header('counter', 'sglang:num_requests_total', 'Number of requests processed.'),
    `sglang:num_requests_total{${labels}} ${Object.values(e.finished).reduce((a, b) => a + b, 0)}`,
    ...header('counter', 'sglang:num_aborted_requests_total', 'Number of requests aborted.'),
    `sglang:num_aborted_requests_total{${labels}} ${e.finished.abort}`,
  ],
};

const DIALECTS: Readonly<Record<SimulatedKind, Dialect>> = { vllm: VLLM, sglang: SGLANG };

/** The engine's state as the runtime of this kind exposes it on /metrics. */
export function renderMetrics(kind: SimulatedKind, engine: InferenceEngine, model: string): string {
  const dialect = DIALECTS[kind];
  const labels = dialect.labels(model);
  const lines = dialect.families.flatMap((f) => [
    ...header(f.type, f.name, f.help),
    ...(f.type === 'histogram'
      ? f.histogram(engine).lines(f.name, labels)
      : [`${f.name}{${labels}} ${f.value(engine)}`]),
  ]);
  return `${[...lines, ...dialect.outcomes(engine, labels)].join('\n')}\n`;
}
