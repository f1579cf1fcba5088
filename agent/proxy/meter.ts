import { StringDecoder } from 'node:string_decoder';
import type { GenerationSurface } from '../shared/generation-api.js';
import type { Dialect, StreamEvent } from '../shared/dialect.js';
import { ndjsonFramer, sseFramer, type Framer } from '../shared/framing.js';
import { servedModelName } from './inference.js';
import { JsonFieldPicker } from './json-fields.js';
import type { Outcome, TrafficLedger } from './ledger.js';

const REQUEST_FIELDS = new Set(['model']);
/** The top-level fields of an unstreamed answer the probe's readers take counts from. */
const ANSWER_FIELDS = new Set([
  'usage',
  'error',
  'done',
  'done_reason',
  'prompt_eval_count',
  'eval_count',
  'stop',
  'tokens_evaluated',
  'timings',
]);

/** Bytes per token, for an estimate where the runtime sends no count: about 4 for English. */
const BYTES_PER_TOKEN = 4;

/** How an answer is framed, from its Content-Type. */
type Framing = 'sse' | 'ndjson' | 'json' | 'other';

export function framingOf(contentType: string | undefined): Framing {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/event-stream') return 'sse';
  if (type === 'application/x-ndjson' || type === 'application/jsonl') return 'ndjson';
  if (type === 'application/json') return 'json';
  return 'other';
}

/** Why a request ended without the runtime's complete answer. */
export type Cut =
  | { readonly by: 'client' }
  | { readonly by: 'upstream'; readonly reason: string }
  | { readonly by: 'proxy'; readonly reason: 'max_streams' };

/** Token counts the runtime sent with its answer. */
interface Usage {
  readonly prompt?: number | undefined;
  readonly completion?: number | undefined;
}

/**
 * One generation request through the proxy, measured as the client gets it: the model it names,
 * when the first output reached the proxy, the gaps between outputs, the tokens the runtime
 * counted (estimated where it counts none), and how it ended. Its answer is framed and read by
 * the probe's own framers and readers of the runtime's API (`dialect`); without one, only its
 * duration and outcome are measured. Keeps no content. Times are the proxy's monotonic clock,
 * in milliseconds.
 */
export class RequestMeter {
  private readonly requestFields = new JsonFieldPicker(REQUEST_FIELDS);
  private readonly requestText = new StringDecoder('utf8');
  private requestBytes = 0;
  private status = 0;
  private framing: Framing = 'other';
  private framer: Framer | undefined;
  private answerFields: JsonFieldPicker | undefined;
  private readonly answerText = new StringDecoder('utf8');
  private answerBytes = 0;
  /** When the chunk being read arrived. */
  private chunkAtMs = 0;
  private usage: Usage = {};
  private outputs = 0;
  private firstOutputMs: number | undefined;
  private lastOutputMs: number | undefined;
  private failedInAnswer = false;
  private complete = false;
  private startedModel: string | undefined;
  private finished = false;

  constructor(
    private readonly surface: GenerationSurface,
    private readonly dialect: Dialect | undefined,
    private readonly ledger: TrafficLedger,
    private readonly startMs: number,
  ) {}

  /** Part of the request body, as it passes to the runtime. */
  request(chunk: Buffer): void {
    this.requestBytes += chunk.length;
    // Read past until `model` is found (it may come last); only the field is kept.
    if (!this.requestFields.fields.has('model'))
      this.requestFields.feed(this.requestText.write(chunk));
  }

  /** The request body is all sent: the request counts as in flight under its model. */
  requestSent(): void {
    if (this.startedModel !== undefined || this.finished) return;
    this.startedModel = this.modelKey();
    this.ledger.started(this.startedModel);
  }

  /** The runtime's status line and Content-Type. */
  answer(status: number, contentType: string | undefined): void {
    this.status = status;
    this.framing = framingOf(contentType);
    if (!this.dialect || status < 200 || status >= 300) return;
    const dialect = this.dialect;
    if (this.framing === 'json') this.answerFields = new JsonFieldPicker(ANSWER_FIELDS);
    else if (this.framing === 'sse' || this.framing === 'ndjson') {
      const sink = {
        payload: (value: unknown) => this.take(dialect.read(value)),
        done: () => undefined,
        keepAlive: () => undefined,
        errorEvent: () => (this.failedInAnswer = true),
        malformed: () => undefined,
      };
      this.framer = this.framing === 'sse' ? sseFramer(sink) : ndjsonFramer(sink);
    }
  }

  /** Part of the answer, as it passes to the client, at `atMs`. */
  chunk(chunk: Buffer, atMs: number): void {
    this.answerBytes += chunk.length;
    this.chunkAtMs = atMs;
    if (this.answerFields) this.answerFields.feed(this.answerText.write(chunk));
    else this.framer?.push(this.answerText.write(chunk));
  }

  /** The runtime's answer ended, complete, at `atMs`. */
  answerEnded(atMs: number): void {
    this.chunkAtMs = atMs;
    this.framer?.end();
    if (this.answerFields && this.dialect)
      this.take(this.dialect.read(Object.fromEntries(this.answerFields.fields)));
    this.complete = true;
  }

  /** The request is over: complete, or cut. Records it once. */
  finish(atMs: number, cut?: Cut): void {
    if (this.finished) return;
    this.finished = true;
    const model = this.startedModel ?? this.modelKey();
    if (this.startedModel !== undefined) this.ledger.ended(this.startedModel);
    const outcome = this.outcome(cut);
    const measured = outcome === 'ok' || outcome === 'error';
    this.ledger.record({
      model,
      outcome,
      durationS: measured && this.status !== 0 ? (atMs - this.startMs) / 1000 : undefined,
      ...(outcome === 'ok' ? this.tokens() : {}),
    });
  }

  private outcome(cut: Cut | undefined): Outcome {
    if (cut?.by === 'proxy') return 'rejected';
    if (cut?.by === 'client') return 'aborted';
    if (cut?.by === 'upstream') return 'error';
    // Overloaded: the runtime refuses, to be tried again (Ollama: 503 "server busy").
    if (this.status === 429 || this.status === 503) return 'rejected';
    if (this.status >= 400 || this.status === 0) return 'error';
    if (this.failedInAnswer) return 'error';
    return this.complete ? 'ok' : 'error';
  }

  /** The runtime's own counts; an estimate, marked approximate, where it sent none. */
  private tokens(): Pick<
    Parameters<TrafficLedger['record']>[0],
    'promptTokens' | 'generationTokens'
  > {
    const { prompt, completion } = this.usage;
    return {
      promptTokens:
        prompt !== undefined
          ? { value: prompt, approx: false }
          : { value: Math.ceil(this.requestBytes / BYTES_PER_TOKEN), approx: true },
      generationTokens:
        completion !== undefined
          ? { value: completion, approx: false }
          : this.framer
            ? // Runtimes stream a token per event (Ollama, llama.cpp); some batch several.
              { value: this.outputs, approx: true }
            : { value: Math.ceil(this.answerBytes / BYTES_PER_TOKEN), approx: true },
    };
  }

  /** One event of the answer, read by the runtime API's reader. */
  private take(event: StreamEvent): void {
    if (event.error) this.failedInAnswer = true;
    // The count of the prompt the model saw (cached tokens included), as the runtimes' own
    // prompt counters count it where they have one.
    const prompt = event.usage?.input ?? event.native?.inputTokens;
    const completion = event.usage?.output ?? event.native?.outputTokens;
    if (prompt !== undefined) this.usage = { ...this.usage, prompt };
    if (completion !== undefined) this.usage = { ...this.usage, completion };
    if (event.output) this.output(this.chunkAtMs);
  }

  /** Output reached the proxy: counted at once, so a long stream is seen while it lasts. */
  private output(atMs: number): void {
    this.outputs++;
    const model = this.startedModel;
    if (this.firstOutputMs === undefined) {
      this.firstOutputMs = atMs;
      if (model !== undefined) this.ledger.firstOutput(model, (atMs - this.startMs) / 1000);
    } else if (this.lastOutputMs !== undefined && model !== undefined)
      this.ledger.outputGap(model, (atMs - this.lastOutputMs) / 1000);
    this.lastOutputMs = atMs;
  }

  /** The model label the request counts under: the one it names, as the runtime lists it. */
  private modelKey(): string {
    return this.ledger.modelKey(
      servedModelName(this.surface, this.requestFields.fields.get('model')) ?? '',
    );
  }
}
