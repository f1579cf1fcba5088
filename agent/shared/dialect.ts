import type { GenerationApi } from './generation-api.js';

/** One turn of a chat, as the OpenAI and Ollama chat APIs take it. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** What one probe request asks for. The prompt stays in memory: it is never logged. */
export interface RequestSpec {
  readonly model: string | undefined;
  readonly prompt: string;
  /** A whole conversation instead of `prompt` (an evaluation case's messages). */
  readonly messages?: readonly ChatMessage[] | undefined;
  /** Sampling seed, for runtimes that honour one (with temperature 0, repeatable answers). */
  readonly seed?: number | undefined;
  readonly maxTokens: number;
  /** The OpenAI `user` field marking synthetic traffic; left out when undefined. */
  readonly user: string | undefined;
  /** Ollama only: the keep-alive to send, so a probe leaves a model's expiry as it was. */
  readonly keepAliveS: number | undefined;
}

/** Server-side figures a runtime reports about the request it served. */
export interface NativeFigures {
  /** Prompt tokens the model saw, cached ones included. */
  readonly inputTokens?: number | undefined;
  /** Prompt tokens it evaluated: those not served from its prompt cache (llama.cpp prompt_n). */
  readonly evaluatedInputTokens?: number | undefined;
  readonly outputTokens?: number | undefined;
  readonly promptS?: number | undefined;
  readonly decodeS?: number | undefined;
  readonly loadS?: number | undefined;
}

/** What one decoded stream event means for the measurement. */
export interface StreamEvent {
  /** Generated answer text (content only; reasoning and tool calls are output but not answer). */
  readonly text: string;
  /** Whether the event carries generated output: content, reasoning or a tool call. */
  readonly output: boolean;
  readonly usage?: { readonly input?: number | undefined; readonly output?: number | undefined };
  readonly native?: NativeFigures;
  readonly finish?: string;
  /** The stream reported an error in-band (its message is not kept: it may quote input). */
  readonly error?: boolean;
}

export interface Dialect {
  readonly api: GenerationApi;
  readonly path: string;
  readonly framing: 'sse' | 'ndjson';
  /** gen_ai.operation.name of the OpenTelemetry GenAI conventions. */
  readonly operation: 'chat' | 'text_completion';
  body(spec: RequestSpec): unknown;
  read(payload: unknown): StreamEvent;
}

/** A question as plain text for a completion endpoint, where no chat template frames it. */
function asText(spec: RequestSpec): string {
  if (!spec.messages) return `Question: ${spec.prompt}\nAnswer:`;
  const label = { system: '', user: 'Question: ', assistant: 'Answer: ' } as const;
  return `${spec.messages.map((m) => `${label[m.role]}${m.content}`).join('\n')}\nAnswer:`;
}

function chatMessages(spec: RequestSpec): readonly ChatMessage[] {
  return spec.messages ?? [{ role: 'user', content: spec.prompt }];
}

const NOTHING: StreamEvent = { text: '', output: false };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** A duration in `perSecond` units per second, in seconds (division keeps 106000000 ns at 0.106). */
function seconds(value: unknown, perSecond: number): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? value / perSecond
    : undefined;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function usageOf(payload: Json): StreamEvent['usage'] {
  const usage = payload.usage;
  if (!isObject(usage)) return undefined;
  return { input: count(usage.prompt_tokens), output: count(usage.completion_tokens) };
}

/**
 * llama.cpp adds its `timings` to the last chunk, on its OpenAI endpoints and its own. With
 * prompt caching (on by default) `prompt_n` counts only the tokens it evaluated: a repeated
 * prompt reads 1. The prompt the model saw is `tokens_evaluated` (its own endpoint), or
 * `prompt_n + cache_n` where it reports the cached part.
 */
function llamaTimings(payload: Json): NativeFigures | undefined {
  const t = payload.timings;
  if (!isObject(t)) return undefined;
  const evaluated = count(t.prompt_n);
  const cached = count(t.cache_n);
  return {
    inputTokens:
      count(payload.tokens_evaluated) ??
      (evaluated !== undefined && cached !== undefined ? evaluated + cached : undefined),
    evaluatedInputTokens: evaluated,
    outputTokens: count(t.predicted_n),
    promptS: seconds(t.prompt_ms, 1e3),
    decodeS: seconds(t.predicted_ms, 1e3),
  };
}

function openAiError(payload: Json): boolean {
  return payload.error !== undefined && payload.error !== null;
}

function withOptional(fields: Json): Json {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** The fields both OpenAI endpoints share, around the chat messages or the completion prompt. */
function openAiBody(spec: RequestSpec, input: Json): Json {
  return withOptional({
    model: spec.model,
    ...input,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: spec.maxTokens,
    temperature: 0,
    seed: spec.seed,
    n: 1,
    user: spec.user,
  });
}

const openAiChat: Dialect = {
  api: 'openai-chat',
  path: '/v1/chat/completions',
  framing: 'sse',
  operation: 'chat',
  body: (spec) => openAiBody(spec, { messages: chatMessages(spec) }),
  read(payload) {
    if (!isObject(payload)) return NOTHING;
    if (openAiError(payload)) return { ...NOTHING, error: true };
    const choice = Array.isArray(payload.choices) ? payload.choices[0] : undefined;
    const delta = isObject(choice) && isObject(choice.delta) ? choice.delta : {};
    const text = nonEmpty(delta.content) ? delta.content : '';
    // A role-only or empty first delta is not output (vllm-project/vllm#3759, #15106).
    const output =
      text !== '' ||
      nonEmpty(delta.reasoning_content) ||
      nonEmpty(delta.reasoning) ||
      (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0);
    const finish = isObject(choice) && nonEmpty(choice.finish_reason) ? choice.finish_reason : '';
    return eventOf(text, output, usageOf(payload), llamaTimings(payload), finish);
  },
};

const openAiCompletions: Dialect = {
  api: 'openai-completions',
  path: '/v1/completions',
  framing: 'sse',
  operation: 'text_completion',
  body: (spec) => openAiBody(spec, { prompt: asText(spec) }),
  read(payload) {
    if (!isObject(payload)) return NOTHING;
    if (openAiError(payload)) return { ...NOTHING, error: true };
    const choice = Array.isArray(payload.choices) ? payload.choices[0] : undefined;
    const text = isObject(choice) && nonEmpty(choice.text) ? choice.text : '';
    const finish = isObject(choice) && nonEmpty(choice.finish_reason) ? choice.finish_reason : '';
    return eventOf(text, text !== '', usageOf(payload), llamaTimings(payload), finish);
  },
};

/** Ollama's NDJSON, `/api/chat` (message) and `/api/generate` (response) alike. */
const ollamaChat: Dialect = {
  api: 'ollama-chat',
  path: '/api/chat',
  framing: 'ndjson',
  operation: 'chat',
  body: (spec) =>
    withOptional({
      model: spec.model,
      messages: chatMessages(spec),
      stream: true,
      options: withOptional({ temperature: 0, seed: spec.seed, num_predict: spec.maxTokens }),
      keep_alive: spec.keepAliveS,
    }),
  read(payload) {
    if (!isObject(payload)) return NOTHING;
    if (nonEmpty(payload.error)) return { ...NOTHING, error: true };
    const message = isObject(payload.message) ? payload.message : {};
    const text = nonEmpty(message.content)
      ? message.content
      : nonEmpty(payload.response)
        ? payload.response
        : '';
    const output =
      text !== '' ||
      nonEmpty(message.thinking) ||
      nonEmpty(payload.thinking) ||
      (Array.isArray(message.tool_calls) && message.tool_calls.length > 0);
    if (payload.done !== true) return eventOf(text, output, undefined, undefined, '');
    // Ollama's timings are nanoseconds; absent fields mean unknown, not 0 (omitempty).
    const native: NativeFigures = {
      inputTokens: count(payload.prompt_eval_count),
      outputTokens: count(payload.eval_count),
      promptS: seconds(payload.prompt_eval_duration, 1e9),
      decodeS: seconds(payload.eval_duration, 1e9),
      loadS: seconds(payload.load_duration, 1e9),
    };
    const finish = nonEmpty(payload.done_reason) ? payload.done_reason : 'stop';
    return eventOf(text, output, undefined, native, finish);
  },
};

/** llama-server's own `/completion`: SSE without `[DONE]`, the last event has `stop: true`. */
const llamacppCompletion: Dialect = {
  api: 'llamacpp-completion',
  path: '/completion',
  framing: 'sse',
  operation: 'text_completion',
  body: (spec) =>
    withOptional({
      prompt: asText(spec),
      n_predict: spec.maxTokens,
      temperature: 0,
      seed: spec.seed,
      stream: true,
    }),
  read(payload) {
    if (!isObject(payload)) return NOTHING;
    if (payload.error !== undefined && payload.error !== null) return { ...NOTHING, error: true };
    const text = nonEmpty(payload.content) ? payload.content : '';
    const finish =
      payload.stop === true ? (nonEmpty(payload.stop_type) ? payload.stop_type : 'stop') : '';
    return eventOf(text, text !== '', undefined, llamaTimings(payload), finish);
  },
};

function eventOf(
  text: string,
  output: boolean,
  usage: StreamEvent['usage'],
  native: NativeFigures | undefined,
  finish: string,
): StreamEvent {
  return {
    text,
    output,
    ...(usage ? { usage } : {}),
    ...(native ? { native } : {}),
    ...(finish ? { finish } : {}),
  };
}

export const DIALECTS: Readonly<Record<GenerationApi, Dialect>> = {
  'openai-chat': openAiChat,
  'openai-completions': openAiCompletions,
  'ollama-chat': ollamaChat,
  'llamacpp-completion': llamacppCompletion,
};
