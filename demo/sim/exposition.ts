import type { InferenceEngine } from './engine.js';

export type SimulatedKind = 'vllm' | 'sglang';

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function family(type: string, name: string, help: string, lines: readonly string[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines];
}

/** vLLM V1's /metrics (0.10 and later names), one engine. */
function vllm(engine: InferenceEngine, model: string): string[] {
  const l = `engine="0",model_name="${escape(model)}"`;
  const one = (type: string, name: string, help: string, value: number) =>
    family(type, name, help, [`${name}{${l}} ${value}`]);
  return [
    ...one(
      'gauge',
      'vllm:num_requests_running',
      'Number of requests in model execution batches.',
      engine.running,
    ),
    ...one(
      'gauge',
      'vllm:num_requests_waiting',
      'Number of requests waiting to be processed.',
      engine.waiting,
    ),
    ...one(
      'gauge',
      'vllm:kv_cache_usage_perc',
      'KV-cache usage. 1 means 100 percent usage.',
      engine.kvCacheUsage,
    ),
    ...one(
      'counter',
      'vllm:num_preemptions_total',
      'Cumulative number of preemption from the engine.',
      engine.preemptions,
    ),
    ...one(
      'counter',
      'vllm:prompt_tokens_total',
      'Number of prefill tokens processed.',
      engine.promptTokens,
    ),
    ...one(
      'counter',
      'vllm:generation_tokens_total',
      'Number of generation tokens processed.',
      engine.generationTokens,
    ),
    ...one(
      'counter',
      'vllm:prefix_cache_queries_total',
      'Prefix cache queries, in terms of number of queried tokens.',
      engine.prefixQueries,
    ),
    ...one(
      'counter',
      'vllm:prefix_cache_hits_total',
      'Prefix cache hits, in terms of number of cached tokens.',
      engine.prefixHits,
    ),
    ...family(
      'counter',
      'vllm:request_success_total',
      'Count of successfully processed requests.',
      Object.entries(engine.finished).map(
        ([reason, n]) => `vllm:request_success_total{${l},finished_reason="${reason}"} ${n}`,
      ),
    ),
    ...family(
      'histogram',
      'vllm:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      engine.ttft.lines('vllm:time_to_first_token_seconds', l),
    ),
    ...family(
      'histogram',
      'vllm:inter_token_latency_seconds',
      'Histogram of inter-token latency in seconds.',
      engine.interToken.lines('vllm:inter_token_latency_seconds', l),
    ),
    ...family(
      'histogram',
      'vllm:e2e_request_latency_seconds',
      'Histogram of e2e request latency in seconds.',
      engine.e2e.lines('vllm:e2e_request_latency_seconds', l),
    ),
    ...family(
      'histogram',
      'vllm:request_queue_time_seconds',
      'Histogram of time spent in WAITING phase for request.',
      engine.queue.lines('vllm:request_queue_time_seconds', l),
    ),
  ];
}

/** SGLang's /metrics (--enable-metrics), tensor-parallel rank 0. */
function sglang(engine: InferenceEngine, model: string): string[] {
  const l = `model_name="${escape(model)}"`;
  const one = (type: string, name: string, help: string, value: number) =>
    family(type, name, help, [`${name}{${l}} ${value}`]);
  const aborted = engine.finished.abort;
  const all = Object.values(engine.finished).reduce((a, b) => a + b, 0);
  return [
    ...one('gauge', 'sglang:num_running_reqs', 'The number of running requests.', engine.running),
    ...one(
      'gauge',
      'sglang:num_queue_reqs',
      'The number of requests in the waiting queue.',
      engine.waiting,
    ),
    ...one('gauge', 'sglang:token_usage', 'The token usage.', engine.kvCacheUsage),
    ...one(
      'counter',
      'sglang:num_retracted_requests_total',
      'Number of retracted requests.',
      engine.preemptions,
    ),
    ...one(
      'counter',
      'sglang:prompt_tokens_total',
      'Number of prefill tokens processed.',
      engine.promptTokens,
    ),
    ...one(
      'counter',
      'sglang:generation_tokens_total',
      'Number of generation tokens processed.',
      engine.generationTokens,
    ),
    ...one(
      'counter',
      'sglang:cached_tokens_total',
      'Number of cached prompt tokens.',
      engine.prefixHits,
    ),
    ...one('counter', 'sglang:num_requests_total', 'Number of requests processed.', all),
    ...one('counter', 'sglang:num_aborted_requests_total', 'Number of requests aborted.', aborted),
    ...family(
      'histogram',
      'sglang:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      engine.ttft.lines('sglang:time_to_first_token_seconds', l),
    ),
    ...family(
      'histogram',
      'sglang:inter_token_latency_seconds',
      'Histogram of inter-token latency in seconds.',
      engine.interToken.lines('sglang:inter_token_latency_seconds', l),
    ),
    ...family(
      'histogram',
      'sglang:e2e_request_latency_seconds',
      'Histogram of End-to-end request latency in seconds',
      engine.e2e.lines('sglang:e2e_request_latency_seconds', l),
    ),
    ...family(
      'histogram',
      'sglang:queue_time_seconds',
      'Histogram of queueing time in seconds.',
      engine.queue.lines('sglang:queue_time_seconds', l),
    ),
  ];
}

/** The engine's state as the runtime of this kind exposes it on /metrics. */
export function renderMetrics(kind: SimulatedKind, engine: InferenceEngine, model: string): string {
  return `${(kind === 'vllm' ? vllm : sglang)(engine, model).join('\n')}\n`;
}
