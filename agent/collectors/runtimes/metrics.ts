import { counter, gauge, histogram } from '../../core/metric.js';
import { PLACE_LABELS } from '../../shared/place.js';
import {
  INTER_TOKEN_BUCKETS,
  REQUEST_BUCKETS,
  TOKEN_COUNT_BUCKETS,
  TTFT_BUCKETS,
} from './buckets.js';

/** A runtime's series; in a cluster each also names the pod it is read from. */
const TARGET = ['runtime', 'target', ...PLACE_LABELS] as const;
const SERIES = ['runtime', 'target', 'model', ...PLACE_LABELS] as const;

export const RUNTIME_INFO = gauge(
  'inferwatch_llm_runtime_info',
  'A runtime serving a model: 1 per target and model. metrics_source: native (its own metrics endpoint), derived (its API only) or none.',
  ['runtime', 'runtime_version', 'model', 'target', 'metrics_source', ...PLACE_LABELS],
);
export const METRICS_SOURCE = gauge(
  'inferwatch_llm_metrics_source_info',
  "Where each concept's figures come from for a target: native, derived, proxy (measured by the metering proxy on its traffic) or none; approx=true where they only approximate the concept. Always 1.",
  ['runtime', 'target', 'concept', 'metrics_source', 'approx', ...PLACE_LABELS],
);
export const RUNTIME_UP = gauge(
  'inferwatch_llm_runtime_up',
  'Whether the runtime is up (1): it answered its last read, or took the connection and is only slow to answer (see inferwatch_llm_runtime_unresponsive). 0: it refused or reset the connection, could not be reached, or answered with an error.',
  TARGET,
);
export const RUNTIME_UNRESPONSIVE = gauge(
  'inferwatch_llm_runtime_unresponsive',
  'Whether the runtime took the connection but did not answer its last read in time (1): busy or saturated, not down. Its last good values are served meanwhile, see inferwatch_llm_runtime_last_read_timestamp_seconds.',
  TARGET,
);
export const RUNTIME_LAST_READ = gauge(
  'inferwatch_llm_runtime_last_read_timestamp_seconds',
  "When the runtime's figures served now were read, in seconds since the epoch: time() minus it is their age.",
  TARGET,
);
export const MODELS_DROPPED = gauge(
  'inferwatch_llm_models_dropped',
  'Models the runtime reported in its last read beyond collectors.runtimes.max_models, whose series were left out.',
  TARGET,
);
export const REQUESTS_WAITING = gauge(
  'inferwatch_llm_requests_waiting',
  'Requests queued, not yet scheduled.',
  SERIES,
);
export const REQUESTS_RUNNING = gauge(
  'inferwatch_llm_requests_running',
  'Requests being processed (in the running batch or a busy slot).',
  SERIES,
);
export const MAX_CONCURRENCY = gauge(
  'inferwatch_llm_max_concurrency',
  'Requests the runtime runs at once at most (slots, max batch).',
  SERIES,
);
export const KV_CACHE_USAGE = gauge(
  'inferwatch_llm_kv_cache_usage_ratio',
  'KV-cache in use, 0 to 1 (averaged over data-parallel engines).',
  SERIES,
);
export const PREEMPTIONS = counter(
  'inferwatch_llm_preemptions_total',
  'Requests preempted (SGLang: retracted) to free KV-cache.',
  SERIES,
);
export const TIME_TO_FIRST_TOKEN = histogram(
  'inferwatch_llm_time_to_first_token_seconds',
  "Time to the first output token, by the runtime's own clock (vLLM and SGLang include queueing; Triton: first response chunk).",
  SERIES,
  TTFT_BUCKETS,
);
export const INTER_TOKEN_LATENCY = histogram(
  'inferwatch_llm_inter_token_latency_seconds',
  'Time between output tokens (vLLM: per output step, several tokens under speculative decoding; TGI: decode batch step).',
  SERIES,
  INTER_TOKEN_BUCKETS,
);
export const REQUEST_DURATION = histogram(
  'inferwatch_llm_request_duration_seconds',
  'End-to-end request time, arrival to last token (TGI: successful requests only).',
  SERIES,
  REQUEST_BUCKETS,
);
export const REQUEST_QUEUE = histogram(
  'inferwatch_llm_request_queue_seconds',
  'Time requests waited in the queue before being scheduled.',
  SERIES,
  REQUEST_BUCKETS,
);
export const REQUEST_PREFILL = histogram(
  'inferwatch_llm_request_prefill_seconds',
  'Time finished requests spent in prefill, from being scheduled to their first token (vLLM: PREFILL phase).',
  SERIES,
  REQUEST_BUCKETS,
);
export const REQUEST_DECODE = histogram(
  'inferwatch_llm_request_decode_seconds',
  'Time finished requests spent in decode, from their first token to their last (vLLM: DECODE phase).',
  SERIES,
  REQUEST_BUCKETS,
);
export const REQUEST_PROMPT_TOKENS = histogram(
  'inferwatch_llm_request_prompt_tokens',
  'Prompt length of finished requests, in tokens.',
  SERIES,
  TOKEN_COUNT_BUCKETS,
);
export const REQUEST_GENERATION_TOKENS = histogram(
  'inferwatch_llm_request_generation_tokens',
  'Output length of finished requests, in tokens.',
  SERIES,
  TOKEN_COUNT_BUCKETS,
);
export const REQUEST_TIME = counter(
  'inferwatch_llm_request_time_seconds_total',
  'End-to-end time of requests, summed, where the runtime has no latency histogram (Triton); mean = its rate over the requests rate.',
  SERIES,
);
export const QUEUE_TIME = counter(
  'inferwatch_llm_queue_time_seconds_total',
  'Queue time of requests, summed, where the runtime has no queue histogram (Triton).',
  SERIES,
);
export const PROMPT_PROCESSING_TIME = counter(
  'inferwatch_llm_prompt_processing_seconds_total',
  'Time spent processing prompts, summed (llama.cpp).',
  SERIES,
);
export const GENERATION_TIME = counter(
  'inferwatch_llm_generation_seconds_total',
  'Time spent generating tokens, summed (llama.cpp); over generation tokens it is the mean time per token.',
  SERIES,
);
export const PROMPT_TOKENS = counter(
  'inferwatch_llm_prompt_tokens_total',
  'Prompt (prefill) tokens processed (llama.cpp: excluding tokens reused from its cache).',
  SERIES,
);
export const GENERATION_TOKENS = counter(
  'inferwatch_llm_generation_tokens_total',
  'Output tokens generated.',
  SERIES,
);
export const REQUESTS = counter(
  'inferwatch_llm_requests_total',
  'Finished requests by outcome: ok, error, aborted (by the client) or rejected (overloaded); where the runtime says why a request ended, by finish_reason too (vLLM: stop, length, abort, error).',
  [...SERIES, 'outcome', 'finish_reason'],
);
export const PREFIX_CACHE_HITS = counter(
  'inferwatch_llm_prefix_cache_hit_tokens_total',
  'Prompt tokens found in the prefix cache.',
  SERIES,
);
export const PREFIX_CACHE_QUERIES = counter(
  'inferwatch_llm_prefix_cache_query_tokens_total',
  'Prompt tokens looked up in the prefix cache; hit ratio = rate(hits) / rate(queries).',
  SERIES,
);
export const MODEL_LOADED = gauge(
  'inferwatch_llm_model_loaded',
  'Whether a model is loaded (1) or only installed (0; Ollama).',
  SERIES,
);
export const MODEL_MEMORY = gauge(
  'inferwatch_llm_model_memory_bytes',
  'Memory a loaded model takes: location=vram (on GPUs) or total (Ollama /api/ps).',
  [...SERIES, 'location'],
);

export const RUNTIME_METRICS = [
  RUNTIME_INFO,
  METRICS_SOURCE,
  RUNTIME_UP,
  RUNTIME_UNRESPONSIVE,
  RUNTIME_LAST_READ,
  MODELS_DROPPED,
  REQUESTS_WAITING,
  REQUESTS_RUNNING,
  MAX_CONCURRENCY,
  KV_CACHE_USAGE,
  PREEMPTIONS,
  TIME_TO_FIRST_TOKEN,
  INTER_TOKEN_LATENCY,
  REQUEST_DURATION,
  REQUEST_QUEUE,
  REQUEST_PREFILL,
  REQUEST_DECODE,
  REQUEST_PROMPT_TOKENS,
  REQUEST_GENERATION_TOKENS,
  REQUEST_TIME,
  QUEUE_TIME,
  PROMPT_PROCESSING_TIME,
  GENERATION_TIME,
  PROMPT_TOKENS,
  GENERATION_TOKENS,
  REQUESTS,
  PREFIX_CACHE_HITS,
  PREFIX_CACHE_QUERIES,
  MODEL_LOADED,
  MODEL_MEMORY,
];
