import { counter, gauge } from '../core/metric.js';
import { PLACE_LABELS } from '../shared/place.js';

/** A probe run's series; in a cluster each also names the pod probed. */
const RUN = ['target', 'model', 'probe', ...PLACE_LABELS] as const;
/** The runtime families' labels, so probe traffic subtracts one-to-one from served traffic. */
const TRAFFIC = ['runtime', 'target', 'model', ...PLACE_LABELS] as const;

export const PROBE_SUCCESS = gauge(
  'inferwatch_probe_success',
  'Whether the last probe run passed: answered 200, streamed output, finished, and (canary) answered right.',
  RUN,
);
export const PROBE_DURATION = gauge(
  'inferwatch_probe_duration_seconds',
  'Wall time of the last probe run, load check and model lookup included.',
  RUN,
);
export const PROBE_FIRST_EVENT = gauge(
  'inferwatch_probe_first_event_seconds',
  'Request sent to the first stream event of any kind (a role-only chunk counts here, not in TTFT).',
  RUN,
);
export const PROBE_TTFT = gauge(
  'inferwatch_probe_ttft_seconds',
  'Request sent to the first stream event carrying output (content, reasoning or a tool call).',
  RUN,
);
export const PROBE_E2E = gauge(
  'inferwatch_probe_e2e_seconds',
  'Request sent to the last stream event carrying output (a trailing usage chunk does not count).',
  RUN,
);
export const PROBE_TPOT = gauge(
  'inferwatch_probe_tpot_seconds',
  'Time per output token after the first: (e2e - ttft) / (output tokens - 1).',
  RUN,
);
export const PROBE_MAX_GAP = gauge(
  'inferwatch_probe_max_token_gap_seconds',
  'Largest gap between two output events of the last run: a stall shows here.',
  RUN,
);
export const PROBE_OUTPUT_TOKENS = gauge(
  'inferwatch_probe_output_tokens',
  'Output tokens of the last run (see inferwatch_probe_info token_count_source).',
  RUN,
);
export const PROBE_INPUT_TOKENS = gauge(
  'inferwatch_probe_input_tokens',
  'Prompt tokens the model saw in the last run, cached ones included: a changed chat template changes it.',
  RUN,
);
export const PROBE_SERVER_SECONDS = gauge(
  'inferwatch_probe_server_seconds',
  "The runtime's own timing of the last run, by phase (load, prompt, decode); Ollama and llama.cpp report it.",
  [...RUN, 'phase'],
);
export const PROBE_CANARY_MATCH = gauge(
  'inferwatch_probe_canary_match',
  'Whether the last canary answered as expected (1) or not (0); absent until a canary got an answer.',
  [...RUN, 'canary'],
);
export const PROBE_INFO = gauge(
  'inferwatch_probe_info',
  'How the last run was made: the runtime, the API, and where its token count came from (usage, native or estimate).',
  [...RUN, 'runtime', 'api', 'token_count_source'],
);
export const PROBE_LAST_RUN = gauge(
  'inferwatch_probe_last_run_timestamp_seconds',
  'When the last probe run (not skipped) started, in seconds since the epoch.',
  RUN,
);
export const PROBE_LAST_SUCCESS = gauge(
  'inferwatch_probe_last_success_timestamp_seconds',
  'When the last successful probe run started, in seconds since the epoch.',
  RUN,
);
export const PROBE_CONSECUTIVE_SKIPS = gauge(
  'inferwatch_probe_consecutive_skips',
  'Probe runs skipped in a row to do no harm (the runtime saturated: requests queued, KV cache full, every slot busy) since the last run of the target that sent a request: a probe that keeps standing aside measures nothing.',
  RUN,
);
export const PROBE_RUNS = counter(
  'inferwatch_probe_runs_total',
  'Probe runs by result (success, failure, skipped) and reason (empty on success).',
  [...RUN, 'result', 'reason'],
);
export const PROBE_REQUESTS = counter(
  'inferwatch_probe_requests_total',
  "Generation requests the agent sent (the probe's and the evaluation's), to subtract from the runtime's own request counts.",
  TRAFFIC,
);
export const PROBE_INPUT_TOKENS_TOTAL = counter(
  'inferwatch_probe_input_tokens_total',
  "Prompt tokens of the agent's requests (probe and evaluation), counted as the runtime's own prompt-token counter counts them (llama.cpp: only those not served from its prompt cache), so subtracting it from served traffic is exact.",
  TRAFFIC,
);
export const PROBE_OUTPUT_TOKENS_TOTAL = counter(
  'inferwatch_probe_output_tokens_total',
  "Output tokens of the agent's requests (probe and evaluation), to subtract from served traffic.",
  TRAFFIC,
);

export const PROBE_METRICS = [
  PROBE_SUCCESS,
  PROBE_DURATION,
  PROBE_FIRST_EVENT,
  PROBE_TTFT,
  PROBE_E2E,
  PROBE_TPOT,
  PROBE_MAX_GAP,
  PROBE_OUTPUT_TOKENS,
  PROBE_INPUT_TOKENS,
  PROBE_SERVER_SECONDS,
  PROBE_CANARY_MATCH,
  PROBE_INFO,
  PROBE_LAST_RUN,
  PROBE_LAST_SUCCESS,
  PROBE_CONSECUTIVE_SKIPS,
  PROBE_RUNS,
  PROBE_REQUESTS,
  PROBE_INPUT_TOKENS_TOTAL,
  PROBE_OUTPUT_TOKENS_TOTAL,
] as const;
