import type { ProbeResult } from './types.js';

interface Line {
  readonly name: string;
  readonly help: string;
  readonly value: number | undefined;
}

/**
 * The last result in blackbox_exporter's shape (`probe_success`, `probe_duration_seconds`,
 * ...; LLM figures as `probe_llm_*`), for Prometheus setups built on the /probe pattern.
 * Before the first run there is no result, and no `probe_success`: never a made-up 0.
 */
export function renderBlackbox(result: ProbeResult | undefined): string {
  if (!result) return '# no probe run has finished for this target and module yet\n';
  const m = result.measured;
  const s = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
  const lines: Line[] = [
    {
      name: 'probe_success',
      help: 'Whether the last probe run passed.',
      value: result.outcome === 'success' ? 1 : 0,
    },
    {
      name: 'probe_duration_seconds',
      help: 'How long the last probe run took.',
      value: result.durationS,
    },
    { name: 'probe_timeout_seconds', help: 'The timeout of a probe run.', value: result.timeoutS },
    {
      name: 'probe_http_status_code',
      help: 'HTTP status of the generation request.',
      value: result.httpStatus,
    },
    {
      name: 'probe_failed_due_to_regex',
      help: "Whether the canary's answer failed its expected pattern.",
      value: result.canary ? (result.canary.match ? 0 : 1) : undefined,
    },
    {
      name: 'probe_llm_first_event_seconds',
      help: 'Request sent to the first stream event.',
      value: s(m?.firstEventMs),
    },
    {
      name: 'probe_llm_ttft_seconds',
      help: 'Request sent to the first output-bearing event.',
      value: s(m?.ttftMs),
    },
    {
      name: 'probe_llm_e2e_seconds',
      help: 'Request sent to the last output-bearing event.',
      value: s(m?.e2eMs),
    },
    {
      name: 'probe_llm_tpot_seconds',
      help: 'Time per output token after the first.',
      value: s(m?.tpotMs),
    },
    {
      name: 'probe_llm_max_token_gap_seconds',
      help: 'Largest gap between output events.',
      value: s(m?.maxGapMs),
    },
    {
      name: 'probe_llm_output_tokens',
      help: 'Output tokens of the last run.',
      value: m?.outputTokens,
    },
    {
      name: 'probe_llm_input_tokens',
      help: 'Prompt tokens of the last run.',
      value: m?.inputTokens,
    },
    {
      name: 'probe_llm_last_run_timestamp_seconds',
      help: 'When the last run started: the result is cached, not made per scrape.',
      value: result.startedAtMs / 1000,
    },
  ];
  return lines
    .filter((l) => l.value !== undefined)
    .map((l) => `# HELP ${l.name} ${l.help}\n# TYPE ${l.name} gauge\n${l.name} ${l.value}\n`)
    .join('');
}
