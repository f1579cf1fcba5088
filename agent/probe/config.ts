import { z } from 'zod';
import { headerMap, httpUrl, ms } from '../core/config-fields.js';
import { GENERATION_APIS } from '../shared/generation-api.js';
import { DEFAULT_CANARIES, DEFAULT_LATENCY_PROMPT } from './canaries.js';

const canary = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, 'must be 1 to 32 of a-z, 0-9, _ and -')
    .describe('Its name in logs (the prompt never is).'),
  prompt: z.string().min(1).max(2000).describe('The question, sent at temperature 0.'),
  expect: z
    .string()
    .min(1)
    .max(500)
    .refine(
      (p) => {
        try {
          new RegExp(p, 'i');
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be a valid regular expression' },
    )
    .describe('A regular expression the answer must match (case-insensitive).'),
});

const probeTarget = z.strictObject({
  target: z
    .string()
    .min(1)
    .describe(
      "The runtime target's name, as its series' target label says (a configured name, or host:port).",
    ),
  enabled: z.boolean().default(true).describe('Probe this runtime.'),
  model: z
    .string()
    .min(1)
    .optional()
    .describe('The model to ask (default: the first the runtime lists; Ollama: the first loaded).'),
  api: z
    .enum(GENERATION_APIS)
    .optional()
    .describe(
      `The API to call, one of ${GENERATION_APIS.join(', ')} (default: the runtime's own, as the runtime table of docs/runtimes.md lists it; openai-chat falls back to openai-completions where chat is absent).`,
    ),
});

const probe = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Send a small synthetic request to each runtime on a schedule and measure what a user gets.',
      ),
    interval_s: z
      .int()
      .min(5)
      .max(3600)
      .default(60)
      .describe(
        'Seconds between probes of one runtime; each runtime gets its own random offset in the interval.',
      ),
    jitter_ratio: z
      .number()
      .min(0)
      .max(0.5)
      .default(0.2)
      .describe('Each run starts up to this share of the interval late, at random.'),
    timeout_ms: ms(1000, 600_000)
      .default(30_000)
      .describe('Longest one probe may take, the load check and model lookup included.'),
    stall_ms: ms(100, 600_000)
      .default(10_000)
      .describe(
        'Longest silence between two output events once output has begun; keep-alives do not count.',
      ),
    max_tokens: z
      .int()
      .min(2)
      .max(256)
      .default(16)
      .describe(
        'Output tokens asked for by the latency probe (at least 2, for a time per output token).',
      ),
    max_body_bytes: z
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('Largest stream read; a larger one is a failure.'),
    prompt: z
      .string()
      .min(1)
      .max(2000)
      .default(DEFAULT_LATENCY_PROMPT)
      .describe("The latency probe's prompt. Never logged or exported."),
    skip_when: z
      .strictObject({
        requests_waiting_above: z
          .number()
          .min(0)
          .default(0)
          .describe("Skip while more requests than this wait in the runtime's queue."),
        kv_cache_usage_above: z
          .number()
          .min(0)
          .max(1)
          .default(0.8)
          .describe('Skip while the KV cache is fuller than this ratio.'),
      })
      .prefault({})
      .describe('Do no harm: a probe is skipped, not failed, while the runtime is saturated.'),
    backoff_max_s: z
      .int()
      .min(10)
      .max(86_400)
      .default(300)
      .describe(
        'After failures, runs are skipped: 1, 3, 7, ... intervals, up to this many seconds between tries.',
      ),
    marker: z
      .strictObject({
        user: z
          .string()
          .max(64)
          .default('inferwatch-probe')
          .describe(
            "The OpenAI 'user' field of probe requests; empty sends none (for servers that reject it).",
          ),
        request_id_prefix: z
          .string()
          .regex(/^[A-Za-z0-9._-]{0,32}$/, 'must be up to 32 of A-Z, a-z, 0-9, ., _ and -')
          .default('inferwatch-probe-')
          .describe('Prefix of the X-Request-Id header of probe requests.'),
      })
      .prefault({})
      .describe('How probe requests are marked, so runtime logs can tell them from users.'),
    canary: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Run correctness canaries.'),
        every_runs: z
          .int()
          .min(1)
          .max(1000)
          .default(5)
          .describe('Every Nth run of a runtime is a canary instead of a latency probe.'),
        max_tokens: z
          .int()
          .min(1)
          .max(512)
          .default(16)
          .describe('Output tokens a canary may use (reasoning models need more).'),
        prompts: z
          .array(canary)
          .min(1)
          .max(50)
          .default(DEFAULT_CANARIES.map((c) => ({ ...c })))
          .refine((list) => new Set(list.map((c) => c.name)).size === list.length, {
            message: 'each canary needs its own name',
          })
          .describe(
            'Canaries, asked in turn, each {name, prompt, expect}; default: small arithmetic and a capital city.',
          ),
      })
      .prefault({})
      .describe('Questions with a known answer, asked at temperature 0.'),
    ollama: z
      .strictObject({
        load_models: z
          .boolean()
          .default(false)
          .describe(
            'Probe an Ollama model that is not loaded, loading it (and perhaps evicting another).',
          ),
      })
      .prefault({})
      .describe('Ollama.'),
    targets: z
      .array(probeTarget)
      .max(64)
      .default([])
      .describe(
        'Per-runtime settings, each {target, enabled, model, api}; runtimes not listed are probed with the defaults.',
      ),
    otlp: z
      .strictObject({
        endpoint: httpUrl()
          .optional()
          .describe(
            'OTLP/HTTP traces URL (such as http://127.0.0.1:4318/v1/traces): each probe run becomes a span with GenAI attributes. Unset: no OpenTelemetry is loaded.',
          ),
        headers: headerMap()
          .default({})
          .describe('Headers sent to the OTLP endpoint. Never logged.'),
        timeout_ms: ms(100, 60_000).default(10_000).describe('Longest one export may take.'),
      })
      .prefault({})
      .describe('OpenTelemetry export of probe runs.'),
  })
  .refine((p) => p.timeout_ms < p.interval_s * 1000 * (1 - p.jitter_ratio), {
    message: 'must be less than interval_s less its jitter, so runs of one runtime never overlap',
    path: ['timeout_ms'],
  })
  .refine((p) => p.stall_ms < p.timeout_ms, {
    message: 'must be less than timeout_ms',
    path: ['stall_ms'],
  })
  .refine((p) => p.backoff_max_s >= p.interval_s, {
    message: 'must be at least interval_s',
    path: ['backoff_max_s'],
  })
  .refine((p) => new Set(p.targets.map((t) => t.target)).size === p.targets.length, {
    message: 'each target may be listed once',
    path: ['targets'],
  });

export const probeConfig = probe.prefault({}).describe('The synthetic inference probe.');
