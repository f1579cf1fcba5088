import type { PromptTokensCounted, RuntimeLoad } from '../shared/runtime-endpoints.js';
import type { GenerationApi } from '../shared/generation-api.js';
import type { Clock } from '../core/clock.js';
import type { HttpClient } from '../core/http.js';
import type { ChatMessage } from '../shared/dialect.js';
import type { Measured } from './measure.js';
import type { StreamingHttp } from './transport.js';

export const PROBE_MODULES = ['latency', 'canary'] as const;
/** latency: a short fixed generation timed end to end; canary: a question with a known answer. */
export type ProbeModule = (typeof PROBE_MODULES)[number];

export type ProbeOutcome = 'success' | 'failure' | 'skipped';

/** A runtime the probe talks to. */
export interface ProbeTarget {
  readonly target: string;
  readonly runtime: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly api: GenerationApi;
  /** The API was configured: no falling back to another. */
  readonly apiPinned: boolean;
  /** The model to probe; unset: the first one the runtime lists (Ollama: loaded). */
  readonly model: string | undefined;
  /** Which prompt tokens the runtime's own counter counts (see RuntimeEndpoint). */
  readonly promptTokensCounted: PromptTokensCounted;
  readLoad?(signal: AbortSignal): Promise<RuntimeLoad>;
}

/** A question with a known answer. The prompt is never logged or exported. */
export interface Canary {
  readonly name: string;
  readonly prompt: string;
  /** Tested, case-insensitively, against the answer text. */
  readonly expect: RegExp;
}

export interface ProbeSettings {
  readonly timeoutMs: number;
  readonly stallMs: number;
  readonly maxTokens: number;
  readonly canaryMaxTokens: number;
  readonly maxBodyBytes: number;
  readonly latencyPrompt: string;
  readonly skipWhen: { readonly waitingAbove: number; readonly kvCacheUsageAbove: number };
  /** The OpenAI `user` value marking probe traffic; undefined sends none. */
  readonly user: string | undefined;
  readonly requestIdPrefix: string;
  readonly userAgent: string;
  /** Ollama: probe a model that is not loaded (loading it). */
  readonly loadModels: boolean;
}

/** What one run found. It holds no prompt and no answer. */
export interface ProbeResult {
  readonly target: string;
  readonly runtime: string;
  readonly url: string;
  readonly module: ProbeModule;
  /** The API used (after a fall-back, the one that answered). */
  readonly api: GenerationApi;
  /** The model as series name it ('' when none was found). */
  readonly model: string;
  readonly outcome: ProbeOutcome;
  /** Why it failed or was skipped, from a short fixed list; '' on success. */
  readonly reason: string;
  /** A sentence for people (logs, `inferwatch probe`); never quotes the runtime's answer. */
  readonly detail: string;
  /** Which prompt tokens the runtime's own counter counts, for the traffic counters. */
  readonly promptTokensCounted: PromptTokensCounted;
  readonly startedAtMs: number;
  readonly durationS: number;
  readonly timeoutS: number;
  readonly httpStatus: number | undefined;
  readonly measured: Omit<Measured, 'answer'> | undefined;
  /**
   * What identifies the model's weights, where the runtime says: Ollama's digest, the path an
   * OpenAI-compatible server loaded them from (`root` in /v1/models). A re-pulled tag or
   * another snapshot under the same name changes it.
   */
  readonly weights?: string | undefined;
  readonly canary:
    | {
        readonly name: string;
        readonly match: boolean;
        readonly promptSha256: string;
        readonly answerChars: number;
      }
    | undefined;
}

export interface ProbeWorld {
  readonly http: HttpClient;
  readonly stream: StreamingHttp;
  readonly clock: Clock;
  /** A fresh id for the X-Request-Id header. */
  readonly requestId: () => string;
}

/** What one request asks: a prompt or a conversation, and how much it may answer. */
export interface Question {
  readonly prompt: string;
  readonly messages?: readonly ChatMessage[] | undefined;
  readonly maxTokens: number;
  readonly seed?: number | undefined;
}
