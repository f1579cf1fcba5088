import { StringDecoder } from 'node:string_decoder';
import type { RuntimeKind } from '../collectors/runtimes/adapter.js';
import {
  eventOf,
  framingOf,
  LineSplitter,
  readNdjsonLine,
  readSseLine,
  type AnswerEvent,
  type Framing,
  type Usage,
} from './answer.js';
import { servedModelName } from './inference.js';
import { JsonFieldPicker } from './json-fields.js';
import type { Outcome, TrafficLedger } from './ledger.js';

const REQUEST_FIELDS = new Set(['model']);
const ANSWER_FIELDS = new Set([
  'model',
  'usage',
  'error',
  'prompt_eval_count',
  'eval_count',
  'tokens_evaluated',
  'tokens_predicted',
]);

/** Bytes per token, for an estimate where the runtime sends no count: about 4 for English. */
const BYTES_PER_TOKEN = 4;

/** Why a request ended without the runtime's complete answer. */
export type Cut =
  | { readonly by: 'client' }
  | { readonly by: 'upstream'; readonly reason: string }
  | { readonly by: 'proxy'; readonly reason: 'max_streams' };

/**
 * One generation request through the proxy, measured as the client gets it: the model it names,
 * when the first output reached the proxy, the gaps between outputs, the tokens the runtime
 * counted (estimated where it counts none), and how it ended. Reads only what the framing
 * needs; keeps no content. Times are the proxy's monotonic clock, in milliseconds.
 */
export class RequestMeter {
  private readonly requestFields = new JsonFieldPicker(REQUEST_FIELDS);
  private readonly requestText = new StringDecoder('utf8');
  private requestBytes = 0;
  private status = 0;
  private framing: Framing = 'other';
  private readonly lines = new LineSplitter(
    (line) => this.line(line),
    () => this.output(this.chunkAtMs),
  );
  /** When the chunk being read arrived. */
  private chunkAtMs = 0;
  private answerFields: JsonFieldPicker | undefined;
  private readonly answerText = new StringDecoder('utf8');
  private answerBytes = 0;
  private answerModel: string | undefined;
  private usage: Usage | undefined;
  private outputs = 0;
  private firstOutputMs: number | undefined;
  private lastOutputMs: number | undefined;
  private failedInAnswer = false;
  private complete = false;
  private startedModel: string | undefined;
  private finished = false;

  constructor(
    private readonly runtime: RuntimeKind,
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
    this.startedModel = this.ledger.modelKey(this.requestModel() ?? '');
    this.ledger.started(this.startedModel);
  }

  /** The runtime's status line and Content-Type. */
  answer(status: number, contentType: string | undefined): void {
    this.status = status;
    this.framing = framingOf(contentType);
    if (this.framing === 'json') this.answerFields = new JsonFieldPicker(ANSWER_FIELDS);
  }

  /** Part of the answer, as it passes to the client, at `atMs`. */
  chunk(chunk: Buffer, atMs: number): void {
    this.answerBytes += chunk.length;
    if (this.status < 200 || this.status >= 300) return;
    if (this.framing === 'json') this.answerFields?.feed(this.answerText.write(chunk));
    else if (this.framing === 'sse' || this.framing === 'ndjson') {
      this.chunkAtMs = atMs;
      this.lines.push(chunk);
    }
  }

  /** The runtime's answer ended, complete, at `atMs`. */
  answerEnded(atMs: number): void {
    this.chunkAtMs = atMs;
    this.lines.end();
    if (this.answerFields) this.take(eventOf(Object.fromEntries(this.answerFields.fields)));
    this.complete = true;
  }

  /** The request is over: complete, or cut. Records it once. */
  finish(atMs: number, cut?: Cut): void {
    if (this.finished) return;
    this.finished = true;
    const model = this.startedModel ?? this.ledger.modelKey(this.servedModel() ?? '');
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
    const prompt = this.usage?.prompt;
    const completion = this.usage?.completion;
    const streamed = this.framing === 'sse' || this.framing === 'ndjson';
    return {
      promptTokens:
        prompt !== undefined
          ? { value: prompt, approx: false }
          : { value: Math.ceil(this.requestBytes / BYTES_PER_TOKEN), approx: true },
      generationTokens:
        completion !== undefined
          ? { value: completion, approx: false }
          : streamed
            ? // Runtimes stream a token per event (Ollama, llama.cpp); some batch several.
              { value: this.outputs, approx: true }
            : { value: Math.ceil(this.answerBytes / BYTES_PER_TOKEN), approx: true },
    };
  }

  private line(line: string): void {
    const wantModel = this.answerModel === undefined;
    const event =
      this.framing === 'sse' ? readSseLine(line, wantModel) : readNdjsonLine(line, wantModel);
    if (!event) return;
    this.take(event);
    if (event.output) this.output(this.chunkAtMs);
  }

  private take(event: AnswerEvent): void {
    if (event.model !== undefined) this.answerModel ??= event.model;
    if (event.usage) this.usage = { ...this.usage, ...definedOf(event.usage) };
    if (event.error) this.failedInAnswer = true;
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

  private requestModel(): string | undefined {
    return servedModelName(this.runtime, this.requestFields.fields.get('model'));
  }

  private servedModel(): string | undefined {
    return this.requestModel() ?? servedModelName(this.runtime, this.answerModel);
  }
}

function definedOf(usage: Usage): Usage {
  return {
    ...(usage.prompt !== undefined && { prompt: usage.prompt }),
    ...(usage.completion !== undefined && { completion: usage.completion }),
  };
}
