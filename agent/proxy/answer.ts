/**
 * Reading an LLM runtime's answer as it streams through the proxy: where its events are, which
 * carry output, which model answered, how many tokens it counted and whether it ended or
 * failed. Pure: bytes in, observations out. Only the event in hand is held; content is looked
 * at to tell whether an event carries output, never kept.
 */

/** How an answer is framed, from its Content-Type. */
export type Framing = 'sse' | 'ndjson' | 'json' | 'other';

export function framingOf(contentType: string | undefined): Framing {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/event-stream') return 'sse';
  if (type === 'application/x-ndjson' || type === 'application/jsonl') return 'ndjson';
  if (type === 'application/json') return 'json';
  return 'other';
}

/** Token counts the runtime sent with its answer. */
export interface Usage {
  readonly prompt?: number | undefined;
  readonly completion?: number | undefined;
}

/** What one event (an SSE `data:` line, an NDJSON line, a whole JSON answer) says. */
export interface AnswerEvent {
  /** It carries output: text, reasoning, a tool call. */
  readonly output: boolean;
  readonly model?: string | undefined;
  readonly usage?: Usage | undefined;
  /** The runtime says the answer is complete ([DONE], `done: true`, `stop: true`). */
  readonly done?: boolean | undefined;
  /** The runtime reports a failure inside a 200 answer. */
  readonly error?: boolean | undefined;
}

/** The longest event read; a longer one (a huge tool call) counts as output, unread. */
export const MAX_EVENT_BYTES = 64 * 1024;

/**
 * Splits a stream into lines, holding at most one unfinished line of MAX_EVENT_BYTES. A line
 * that grows past it is dropped and reported as `oversized` once it ends. A line inside one
 * chunk is decoded where it lies; only a line split across chunks is copied.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  private overflow = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOversized: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, start);
      if (end < 0) break;
      if (this.held === 0 && !this.overflow) {
        if (end - start <= MAX_EVENT_BYTES) this.onLine(decodeLine(chunk, start, end));
        else this.onOversized();
      } else {
        this.take(chunk.subarray(start, end));
        if (this.overflow) this.onOversized();
        else this.onLine(decodeLine(Buffer.concat(this.parts, this.held), 0, this.held));
        this.parts = [];
        this.held = 0;
        this.overflow = false;
      }
      start = end + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  }

  /** The last line, when the stream ends without a newline. */
  end(): void {
    if (this.overflow) this.onOversized();
    else if (this.held > 0)
      this.onLine(decodeLine(Buffer.concat(this.parts, this.held), 0, this.held));
    this.parts = [];
    this.held = 0;
    this.overflow = false;
  }

  private take(part: Buffer): void {
    if (this.overflow) return;
    if (this.held + part.length > MAX_EVENT_BYTES) {
      this.overflow = true;
      this.parts = [];
      this.held = 0;
      return;
    }
    if (part.length > 0) {
      // A copy: the chunk's memory goes back to the stream once handed on.
      this.parts.push(Buffer.from(part));
      this.held += part.length;
    }
  }
}

function decodeLine(buffer: Buffer, start: number, end: number): string {
  const last = end > start && buffer[end - 1] === 0x0d ? end - 1 : end;
  return buffer.toString('utf8', start, last);
}

/** One SSE line: undefined for comments, other fields and blank lines. */
export function readSseLine(line: string, wantModel = true): AnswerEvent | undefined {
  if (!line.startsWith('data:')) return undefined;
  const data = line.slice(line.startsWith('data: ') ? 6 : 5).trim();
  if (data === '[DONE]') return { output: false, done: true };
  return readJsonEvent(data, wantModel);
}

/** One NDJSON line (Ollama's native API). */
export function readNdjsonLine(line: string, wantModel = true): AnswerEvent | undefined {
  const text = line.trim();
  return text === '' ? undefined : readJsonEvent(text, wantModel);
}

type Json = Record<string, unknown>;

/**
 * One JSON event of any of the shapes runtimes stream: OpenAI chat and completion chunks
 * (vLLM, SGLang, TGI, llama.cpp, Ollama's /v1), Ollama's /api/chat and /api/generate lines,
 * llama.cpp's /completion and TGI's /generate_stream events.
 *
 * Most events carry one token and nothing else the proxy needs; they are told by a look at the
 * text, without building the object (thousands a second on a busy route, each parse feeding
 * the collector of young garbage that pauses every stream). The rare event that may end the
 * answer, count its tokens or report an error is parsed whole.
 */
export function readJsonEvent(text: string, wantModel = true): AnswerEvent | undefined {
  if (!RARE.test(text)) {
    if (text.charCodeAt(0) !== 0x7b) return undefined;
    const output = OUTPUT.test(text) && !SPECIAL_TOKEN.test(text);
    if (!wantModel) return output ? OUTPUT_ONLY : NOTHING;
    const model = MODEL.exec(text);
    return { output, model: model ? unquote(model[1] as string) : undefined };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  return eventOf(parsed);
}

/** The events of a stream once its model is known: one object each, none made per event. */
const OUTPUT_ONLY: AnswerEvent = Object.freeze({ output: true });
const NOTHING: AnswerEvent = Object.freeze({ output: false });

/** Keys that may end an answer, count its tokens or report a failure: parsed whole. */
const RARE =
  /"(?:usage|details)"\s*:\s*\{|"(?:done|stop)"\s*:\s*true|"(?:error|eval_count|prompt_eval_count|tokens_predicted|tokens_evaluated)"\s*:/;
/** A non-empty text, reasoning or tool call, in any of the shapes eventOf reads. */
const OUTPUT =
  /"(?:content|text|response|thinking|reasoning|reasoning_content)"\s*:\s*"[^"]|"tool_calls"\s*:\s*\[\s*\{|"token"\s*:\s*\{/;
/** TGI marks special tokens (end of sequence...): no text a user sees. */
const SPECIAL_TOKEN = /"special"\s*:\s*true/;
const MODEL = /"model"\s*:\s*("(?:[^"\\]|\\.)*")/;

function unquote(literal: string): string | undefined {
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function eventOf(o: Json): AnswerEvent {
  const model = typeof o.model === 'string' ? o.model : undefined;
  const error = o.error !== undefined && o.error !== null;
  return {
    output: hasOutput(o),
    model,
    usage: usageOf(o),
    done: o.done === true || o.stop === true || isObject(o.details) || undefined,
    error: error || undefined,
  };
}

function hasOutput(o: Json): boolean {
  // Ollama: response / thinking (generate), message.{content,thinking,tool_calls} (chat).
  if (nonEmpty(o.response) || nonEmpty(o.thinking)) return true;
  if (isObject(o.message) && messageHasOutput(o.message)) return true;
  // llama.cpp /completion.
  if (nonEmpty(o.content)) return true;
  // TGI /generate_stream: one token per event (special tokens carry no text users see).
  if (isObject(o.token) && o.token.special !== true) return true;
  if (Array.isArray(o.choices))
    for (const choice of o.choices) {
      if (!isObject(choice)) continue;
      if (nonEmpty(choice.text)) return true;
      if (isObject(choice.delta) && messageHasOutput(choice.delta)) return true;
      if (isObject(choice.message) && messageHasOutput(choice.message)) return true;
    }
  return false;
}

function messageHasOutput(m: Json): boolean {
  return (
    nonEmpty(m.content) ||
    nonEmpty(m.thinking) ||
    nonEmpty(m.reasoning) ||
    nonEmpty(m.reasoning_content) ||
    (Array.isArray(m.tool_calls) && m.tool_calls.length > 0)
  );
}

/**
 * Token counts by each runtime's own names: OpenAI `usage`, Ollama's final line
 * (`prompt_eval_count`, `eval_count`), llama.cpp's /completion (`tokens_evaluated`,
 * `tokens_predicted`), TGI's `details.generated_tokens`.
 */
export function usageOf(o: Json): Usage | undefined {
  if (isObject(o.usage)) {
    const prompt = count(o.usage.prompt_tokens);
    const completion = count(o.usage.completion_tokens);
    if (prompt !== undefined || completion !== undefined) return { prompt, completion };
  }
  const prompt = count(o.prompt_eval_count) ?? count(o.tokens_evaluated);
  const completion =
    count(o.eval_count) ??
    count(o.tokens_predicted) ??
    (isObject(o.details) ? count(o.details.generated_tokens) : undefined);
  if (prompt !== undefined || completion !== undefined) return { prompt, completion };
  return undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 1e9
    ? value
    : undefined;
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
