import type { ProbeResult } from '../../agent/probe/types.js';

/** A successful latency run against vLLM, as the probe records it; tests change what they need. */
export const MEASURED = {
  firstEventMs: 40,
  ttftMs: 120,
  e2eMs: 420,
  tpotMs: 20,
  maxGapMs: 30,
  outputEvents: 4,
  outputTokens: 16,
  tokenSource: 'usage' as const,
  inputTokens: 21,
  evaluatedInputTokens: undefined,
  finish: 'length',
  streamError: false,
  server: { promptS: 0.01, decodeS: 0.3 },
};

export function probeResult(fields: Partial<ProbeResult>): ProbeResult {
  return {
    target: 'vllm-a',
    runtime: 'vllm',
    url: 'http://127.0.0.1:8000',
    module: 'latency',
    api: 'openai-chat',
    model: 'Qwen2.5-7B-Instruct',
    promptTokensCounted: 'all',
    outcome: 'success',
    reason: '',
    detail: '',
    startedAtMs: 1_795_000_000_000,
    durationS: 0.5,
    timeoutS: 30,
    httpStatus: 200,
    measured: MEASURED,
    canary: undefined,
    ...fields,
  };
}
