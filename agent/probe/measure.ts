import type { NativeFigures, StreamEvent } from '../shared/dialect.js';

/** Where the output token count came from, best first. */
export type TokenSource = 'usage' | 'native' | 'estimate';

/** What a stream showed, in milliseconds from the moment the request was sent. */
export interface Measured {
  /** The first event of any kind (a role-only chunk, say). */
  readonly firstEventMs: number | undefined;
  /** The first event carrying output. */
  readonly ttftMs: number | undefined;
  /** The last event carrying output: the trailing usage chunk and `[DONE]` do not count. */
  readonly e2eMs: number | undefined;
  /** `(e2e - ttft) / (tokens - 1)`, only with two tokens or more. */
  readonly tpotMs: number | undefined;
  /** The largest gap between two output events. */
  readonly maxGapMs: number | undefined;
  readonly outputEvents: number;
  readonly outputTokens: number | undefined;
  readonly tokenSource: TokenSource | undefined;
  /** Prompt tokens the model saw (usage, else the runtime's own full count). */
  readonly inputTokens: number | undefined;
  /** Prompt tokens the runtime evaluated, where it counts those apart (llama.cpp's cache). */
  readonly evaluatedInputTokens: number | undefined;
  readonly finish: string | undefined;
  readonly streamError: boolean;
  readonly server: NativeFigures | undefined;
  /** The answer, for the canary check only: never logged, never exported. */
  readonly answer: string;
}

/** Answers longer than this are not needed to judge a canary. */
const MAX_ANSWER_CHARS = 4096;

/**
 * Measures one stream from its events and the monotonic time each arrived. Pure: the
 * caller stamps the events. Only events that carry output count as tokens arriving (a
 * role-only chunk, a keep-alive or a usage chunk does not): TTFT is the first of them, the
 * end the last, the time per output token is the time between them over the tokens after the
 * first, and the largest gap is the longest silence between two of them.
 */
export class StreamMeasure {
  private firstEvent: number | undefined;
  private firstOutput: number | undefined;
  private lastOutput: number | undefined;
  private maxGap: number | undefined;
  private outputEvents = 0;
  private usage: { input?: number | undefined; output?: number | undefined } = {};
  private native: NativeFigures = {};
  private finish: string | undefined;
  private streamError = false;
  private answer = '';

  constructor(private readonly startMs: number) {}

  event(atMs: number, event: StreamEvent): void {
    const at = atMs - this.startMs;
    this.firstEvent ??= at;
    if (event.error) this.streamError = true;
    if (event.output) {
      this.firstOutput ??= at;
      if (this.lastOutput !== undefined)
        this.maxGap = Math.max(this.maxGap ?? 0, at - this.lastOutput);
      this.lastOutput = at;
      this.outputEvents++;
    }
    if (event.text && this.answer.length < MAX_ANSWER_CHARS)
      this.answer = (this.answer + event.text).slice(0, MAX_ANSWER_CHARS);
    if (event.usage) this.usage = { ...this.usage, ...defined(event.usage) };
    if (event.native) this.native = { ...this.native, ...defined(event.native) };
    if (event.finish) this.finish = event.finish;
  }

  result(): Measured {
    const { outputTokens, tokenSource } = this.tokens();
    const ttft = this.firstOutput;
    const e2e = this.lastOutput;
    const tpotMs =
      outputTokens !== undefined && outputTokens >= 2 && ttft !== undefined && e2e !== undefined
        ? (e2e - ttft) / (outputTokens - 1)
        : undefined;
    const server = Object.keys(this.native).length ? this.native : undefined;
    return {
      firstEventMs: this.firstEvent,
      ttftMs: ttft,
      e2eMs: e2e,
      tpotMs,
      maxGapMs: this.maxGap,
      outputEvents: this.outputEvents,
      outputTokens,
      tokenSource,
      inputTokens: this.usage.input ?? this.native.inputTokens,
      evaluatedInputTokens: this.native.evaluatedInputTokens,
      finish: this.finish,
      streamError: this.streamError,
      server,
      answer: this.answer,
    };
  }

  /** The server's usage, else the runtime's own count, else the output events (an estimate). */
  private tokens(): { outputTokens: number | undefined; tokenSource: TokenSource | undefined } {
    if (this.usage.output !== undefined)
      return { outputTokens: this.usage.output, tokenSource: 'usage' };
    if (this.native.outputTokens !== undefined)
      return { outputTokens: this.native.outputTokens, tokenSource: 'native' };
    if (this.outputEvents > 0) return { outputTokens: this.outputEvents, tokenSource: 'estimate' };
    return { outputTokens: undefined, tokenSource: undefined };
  }
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
