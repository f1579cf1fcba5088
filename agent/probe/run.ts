import { createHash } from 'node:crypto';
import { z } from 'zod';
import { modelName } from '../shared/model-name.js';
import type { Clock } from '../core/clock.js';
import { errorCode, HttpError, type HttpClient } from '../core/http.js';
import { DIALECTS, type ChatMessage, type Dialect } from '../shared/dialect.js';
import type { GenerationApi } from '../shared/generation-api.js';
import { ndjsonFramer, sseFramer } from '../shared/framing.js';
import { StreamMeasure, type Measured } from './measure.js';
import type { StreamingHttp } from './transport.js';
import type { Canary, ProbeModule, ProbeResult, ProbeSettings, ProbeTarget } from './types.js';

export interface ProbeWorld {
  readonly http: HttpClient;
  readonly stream: StreamingHttp;
  readonly clock: Clock;
  /** A fresh id for the X-Request-Id header. */
  readonly requestId: () => string;
}

/** The load check and model lookup are small reads; they get this much of the budget at most. */
const PRE_CHECK_MS = 5000;
const SMALL_BODY_BYTES = 1024 * 1024;
/** An Ollama expiry this far out is keep_alive -1 (forever). */
const FOREVER_MS = 10 * 365 * 24 * 3600 * 1000;

const MODELS = z.looseObject({
  data: z.array(z.looseObject({ id: z.string(), root: z.string().optional() })),
});
const OLLAMA_PS = z.looseObject({
  models: z.array(
    z.looseObject({
      name: z.string(),
      expires_at: z.string().optional(),
      digest: z.string().optional(),
    }),
  ),
});
/** A weights identity longer than this is cut: it becomes a label value. */
const MAX_WEIGHTS_CHARS = 128;

interface Plan {
  readonly model: string | undefined;
  readonly keepAliveS: number | undefined;
  /** What identifies the model's weights, where the runtime says (see ProbeResult). */
  readonly weights?: string | undefined;
}

function weightsOf(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value.slice(0, MAX_WEIGHTS_CHARS);
}

type Stop = {
  readonly outcome: 'skipped' | 'failure';
  readonly reason: string;
  readonly detail: string;
};

/**
 * One probe run against one target: the do-no-harm checks, the model, one streamed request
 * timed on the monotonic clock, and the verdict. It never throws.
 */
export async function runProbe(
  target: ProbeTarget,
  module: ProbeModule,
  canary: Canary | undefined,
  settings: ProbeSettings,
  world: ProbeWorld,
  cancel?: AbortSignal,
): Promise<ProbeResult> {
  const startedAtMs = world.clock.epochMs();
  const t0 = world.clock.monotonicMs();
  const deadline = AbortSignal.timeout(settings.timeoutMs);
  const signal = cancel ? AbortSignal.any([deadline, cancel]) : deadline;
  let api = target.api;
  let model = target.model;
  const finish = (
    fields: Partial<ProbeResult> & Pick<ProbeResult, 'outcome' | 'reason' | 'detail'>,
  ): ProbeResult => ({
    ...resultOf(target, module, settings, startedAtMs, fields),
    api,
    model: modelName(model) ?? '',
    durationS: (world.clock.monotonicMs() - t0) / 1000,
    ...fields,
  });

  const busy = await saturation(target, settings, signal);
  if (busy) return finish({ outcome: 'skipped', ...busy });

  const plan = await planRequest(target, settings, world, startedAtMs, signal);
  if ('outcome' in plan) return finish(plan);
  model = plan.model;
  const weights = plan.weights === undefined ? {} : { weights: plan.weights };

  const question: Question = {
    prompt: canary?.prompt ?? settings.latencyPrompt,
    maxTokens: module === 'canary' ? settings.canaryMaxTokens : settings.maxTokens,
  };
  const exchange = await exchangeFor(target, plan, question, settings, world, signal);
  api = exchange.api;
  const { measured, httpStatus } = exchange;
  // The answer is judged here and goes no further: results are logged and exported.
  const answer = measured?.answer ?? '';
  const measuredOut = measured ? withoutAnswer(measured) : undefined;
  const canaryOut =
    canary && exchange.stop === undefined
      ? {
          name: canary.name,
          match: canary.expect.test(answer),
          promptSha256: sha256(canary.prompt),
          answerChars: answer.length,
        }
      : undefined;
  if (exchange.stop)
    return finish({ ...exchange.stop, ...weights, httpStatus, measured: measuredOut });
  if (canaryOut && !canaryOut.match) {
    return finish({
      ...weights,
      outcome: 'failure',
      reason: 'content_mismatch',
      detail: `canary ${canary?.name}: the answer (${answer.length} characters) does not match`,
      httpStatus,
      measured: measuredOut,
      canary: canaryOut,
    });
  }
  return finish({
    ...weights,
    outcome: 'success',
    reason: '',
    detail: `${measured?.outputTokens ?? 0} tokens, finish ${measured?.finish ?? '?'}`,
    httpStatus,
    measured: measuredOut,
    canary: canaryOut,
  });
}

/** What one request asks: a prompt or a conversation, and how much it may answer. */
export interface Question {
  readonly prompt: string;
  readonly messages?: readonly ChatMessage[] | undefined;
  readonly maxTokens: number;
  readonly seed?: number | undefined;
}

/** A generation's answer text, or why there is none. The text stays in the caller's memory. */
export type Asked = (
  | { readonly outcome: 'answered'; readonly model: string; readonly text: string }
  | ({ readonly model: string } & Stop)
) & {
  /** Set when the runtime answered the request at all: it is traffic, to be counted. */
  readonly sent?: { readonly measured: Omit<Measured, 'answer'> | undefined };
};

/**
 * One question to one target under the probe's rules (skip while the runtime is saturated,
 * never load an Ollama model, the probe's markers and deadline), for the evaluation: the
 * answer text is returned for judging, never logged.
 */
export async function ask(
  target: ProbeTarget,
  question: Question,
  settings: ProbeSettings,
  world: ProbeWorld,
  cancel?: AbortSignal,
): Promise<Asked> {
  const deadline = AbortSignal.timeout(settings.timeoutMs);
  const signal = cancel ? AbortSignal.any([deadline, cancel]) : deadline;
  const named = modelName(target.model) ?? '';
  const busy = await saturation(target, settings, signal);
  if (busy) return { outcome: 'skipped', model: named, ...busy };
  const plan = await planRequest(target, settings, world, world.clock.epochMs(), signal);
  if ('outcome' in plan) return { model: named, ...plan };
  const model = modelName(plan.model) ?? '';
  const exchange = await exchangeFor(target, plan, question, settings, world, signal);
  const sent =
    exchange.httpStatus === undefined
      ? {}
      : { sent: { measured: exchange.measured ? withoutAnswer(exchange.measured) : undefined } };
  if (exchange.stop) return { model, ...exchange.stop, ...sent };
  return { outcome: 'answered', model, text: exchange.measured?.answer ?? '', ...sent };
}

/** The model a request to this target would ask (Ollama: loaded), or why none. */
export async function modelToAsk(
  target: ProbeTarget,
  settings: ProbeSettings,
  world: ProbeWorld,
): Promise<{ readonly model: string } | Stop> {
  const plan = await planRequest(
    target,
    settings,
    world,
    world.clock.epochMs(),
    AbortSignal.timeout(PRE_CHECK_MS),
  );
  return 'outcome' in plan ? plan : { model: modelName(plan.model) ?? '' };
}

/** One streamed request; a server without the chat endpoint may still complete text. */
async function exchangeFor(
  target: ProbeTarget,
  plan: Plan,
  question: Question,
  settings: ProbeSettings,
  world: ProbeWorld,
  signal: AbortSignal,
): Promise<Exchange & { readonly api: GenerationApi }> {
  const attempt = (api: GenerationApi) =>
    streamOnce(DIALECTS[api], target, plan, question, settings, world, signal);
  const first = await attempt(target.api);
  // An older or base-model server may have no chat endpoint.
  if (first.httpStatus === 404 && target.api === 'openai-chat' && !target.apiPinned)
    return { ...(await attempt('openai-completions')), api: 'openai-completions' };
  return { ...first, api: target.api };
}

/** A run's result with nothing measured yet: the fields every outcome shares. */
export function resultOf(
  target: ProbeTarget,
  module: ProbeModule,
  settings: ProbeSettings,
  startedAtMs: number,
  fields: Pick<ProbeResult, 'outcome' | 'reason' | 'detail'>,
): ProbeResult {
  return {
    target: target.target,
    runtime: target.runtime,
    url: target.url,
    module,
    api: target.api,
    model: modelName(target.model) ?? '',
    promptTokensCounted: target.promptTokensCounted,
    startedAtMs,
    durationS: 0,
    timeoutS: settings.timeoutMs / 1000,
    httpStatus: undefined,
    measured: undefined,
    canary: undefined,
    ...fields,
  };
}

/** Skip, not fail, when the runtime is busy: a probe must not queue ahead of users. */
async function saturation(
  target: ProbeTarget,
  settings: ProbeSettings,
  signal: AbortSignal,
): Promise<Omit<Stop, 'outcome'> | undefined> {
  if (!target.readLoad) return undefined;
  let load;
  try {
    load = await target.readLoad(AbortSignal.any([signal, AbortSignal.timeout(PRE_CHECK_MS)]));
  } catch {
    // Metrics that cannot be read say nothing about load; the probe itself will tell.
    return undefined;
  }
  const { waitingAbove, kvCacheUsageAbove } = settings.skipWhen;
  if (load.waiting !== undefined && load.waiting > waitingAbove)
    return {
      reason: 'saturated_queue',
      detail: `${load.waiting} requests waiting (skip above ${waitingAbove})`,
    };
  if (load.kvCacheUsage !== undefined && load.kvCacheUsage > kvCacheUsageAbove)
    return {
      reason: 'saturated_kv_cache',
      detail: `KV cache ${(load.kvCacheUsage * 100).toFixed(0)}% used (skip above ${(kvCacheUsageAbove * 100).toFixed(0)}%)`,
    };
  // Every slot busy: the probe would wait in line ahead of the next user.
  if (
    load.running !== undefined &&
    load.maxConcurrency !== undefined &&
    load.maxConcurrency > 0 &&
    load.running >= load.maxConcurrency
  )
    return {
      reason: 'saturated_slots',
      detail: `all ${load.maxConcurrency} slots busy`,
    };
  return undefined;
}

/** Which model to ask, and for Ollama the keep-alive that leaves its expiry where it was. */
async function planRequest(
  target: ProbeTarget,
  settings: ProbeSettings,
  world: ProbeWorld,
  nowMs: number,
  signal: AbortSignal,
): Promise<Plan | Stop> {
  const get = async (path: string) =>
    world.http.get(`${base(target.url)}${path}`, {
      timeoutMs: PRE_CHECK_MS,
      maxBytes: SMALL_BODY_BYTES,
      headers: { ...target.headers, accept: 'application/json' },
      signal,
    });
  try {
    if (target.api === 'ollama-chat') {
      const response = await get('/api/ps');
      if (response.status !== 200) return statusStop('/api/ps', response.status);
      const ps = OLLAMA_PS.safeParse(parseJson(response.body));
      if (!ps.success)
        return {
          outcome: 'failure',
          reason: 'bad_response',
          detail: '/api/ps is not what Ollama answers',
        };
      const loaded = [...ps.data.models].sort((a, b) => a.name.localeCompare(b.name));
      const wanted = target.model ?? loaded[0]?.name;
      const entry = loaded.find((m) => m.name === wanted);
      if (!entry) {
        if (wanted !== undefined && settings.loadModels)
          return { model: wanted, keepAliveS: undefined };
        return {
          outcome: 'skipped',
          reason: 'model_not_loaded',
          detail: wanted
            ? `${wanted} is not loaded, and probing it would load it`
            : 'no model is loaded, and probing one would load it',
        };
      }
      const expires = entry.expires_at ? Date.parse(entry.expires_at) : Number.NaN;
      // Each request restarts a model's keep-alive; asking for exactly what was left keeps
      // the probe from pinning a model in memory that would otherwise have been unloaded.
      const weights = weightsOf(entry.digest);
      if (Number.isNaN(expires)) return { model: entry.name, keepAliveS: undefined, weights };
      const left = expires - nowMs;
      if (left > FOREVER_MS) return { model: entry.name, keepAliveS: -1, weights };
      if (left < 1000)
        return {
          outcome: 'skipped',
          reason: 'model_not_loaded',
          detail: `${entry.name} is about to be unloaded`,
        };
      return { model: entry.name, keepAliveS: Math.ceil(left / 1000), weights };
    }
    if (target.model !== undefined) return { model: target.model, keepAliveS: undefined };
    const response = await get('/v1/models');
    // A server without a model list (llama-server's own endpoint, an older TGI) serves the one
    // model it has to a request that names none; the label stays empty.
    if (response.status === 404) return { model: undefined, keepAliveS: undefined };
    if (response.status !== 200) return statusStop('/v1/models', response.status);
    const models = MODELS.safeParse(parseJson(response.body));
    const listed = models.success ? models.data.data[0] : undefined;
    const first = listed?.id;
    if (first === undefined && target.api !== 'llamacpp-completion')
      return {
        outcome: 'failure',
        reason: 'no_model',
        detail: '/v1/models lists no model; set probe.targets[].model',
      };
    return { model: first, keepAliveS: undefined, weights: weightsOf(listed?.root) };
  } catch (error) {
    return transportStop(error, signal);
  }
}

interface Exchange {
  readonly httpStatus: number | undefined;
  readonly measured: Measured | undefined;
  /** Set when the run failed. */
  readonly stop: Stop | undefined;
}

async function streamOnce(
  dialect: Dialect,
  target: ProbeTarget,
  plan: Plan,
  question: Question,
  settings: ProbeSettings,
  world: ProbeWorld,
  signal: AbortSignal,
): Promise<Exchange> {
  const body = JSON.stringify(
    dialect.body({
      model: plan.model,
      prompt: question.prompt,
      messages: question.messages,
      seed: question.seed,
      maxTokens: question.maxTokens,
      user: dialect.api === 'ollama-chat' ? undefined : settings.user,
      keepAliveS: plan.keepAliveS,
    }),
  );
  const headers = {
    ...target.headers,
    'content-type': 'application/json',
    accept: dialect.framing === 'sse' ? 'text/event-stream' : 'application/x-ndjson',
    'user-agent': settings.userAgent,
    'x-request-id': `${settings.requestIdPrefix}${world.requestId()}`,
  };
  const stall = new AbortController();
  const all = AbortSignal.any([signal, stall.signal]);
  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stall.abort(), settings.stallMs);
  };

  const start = world.clock.monotonicMs();
  const measure = new StreamMeasure(start);
  let now = start;
  let events = 0;
  let malformed = 0;
  let tooLarge = false;
  const sink = {
    payload(value: unknown) {
      events++;
      const event = dialect.read(value);
      measure.event(now, event);
      if (event.output) armStall();
    },
    done() {},
    keepAlive() {},
    errorEvent() {
      events++;
      measure.event(now, { text: '', output: false, error: true });
    },
    malformed() {
      malformed++;
    },
  };
  const framer = dialect.framing === 'sse' ? sseFramer(sink) : ndjsonFramer(sink);
  let httpStatus: number | undefined;
  try {
    const response = await world.stream.post(`${base(target.url)}${dialect.path}`, {
      headers,
      body,
      signal: all,
    });
    httpStatus = response.status;
    if (response.status !== 200) {
      await discard(response.body);
      return { httpStatus, measured: undefined, stop: statusStop(dialect.path, response.status) };
    }
    const decoder = new TextDecoder();
    let bytes = 0;
    for await (const chunk of response.body) {
      now = world.clock.monotonicMs();
      bytes += chunk.byteLength;
      if (bytes > settings.maxBodyBytes) {
        tooLarge = true;
        break;
      }
      framer.push(decoder.decode(chunk, { stream: true }));
    }
    now = world.clock.monotonicMs();
    framer.push(decoder.decode());
    framer.end();
  } catch (error) {
    const measured = measure.result();
    if (stall.signal.aborted && !signal.aborted)
      return {
        httpStatus,
        measured,
        stop: {
          outcome: 'failure',
          reason: 'stall',
          detail: `no output for ${settings.stallMs} ms after output had begun`,
        },
      };
    if (httpStatus === undefined)
      return { httpStatus, measured: undefined, stop: transportStop(error, signal) };
    if (signal.aborted && !cancelOnly(signal))
      return {
        httpStatus,
        measured,
        stop: {
          outcome: 'failure',
          reason: measured.ttftMs === undefined ? 'timeout_first_token' : 'timeout',
          detail:
            measured.ttftMs === undefined
              ? `no output within ${settings.timeoutMs} ms`
              : `the answer did not finish within ${settings.timeoutMs} ms`,
        },
      };
    return {
      httpStatus,
      measured,
      stop: { outcome: 'failure', reason: 'truncated', detail: 'the connection broke mid-stream' },
    };
  } finally {
    clearTimeout(stallTimer);
  }
  const measured = measure.result();
  return {
    httpStatus,
    measured,
    stop: verdict(measured, { tooLarge, events, malformed }, settings),
  };
}

function verdict(
  m: Measured,
  stream: { tooLarge: boolean; events: number; malformed: number },
  settings: ProbeSettings,
): Stop | undefined {
  const fail = (reason: string, detail: string): Stop => ({ outcome: 'failure', reason, detail });
  if (stream.tooLarge) return fail('too_large', `the stream passed ${settings.maxBodyBytes} bytes`);
  if (m.streamError) return fail('stream_error', 'the stream reported an error');
  if (stream.events === 0 && stream.malformed > 0)
    return fail('bad_response', 'the answer is not a stream of JSON events');
  if (m.outputEvents === 0) return fail('no_output', 'the stream ended without any output');
  if (m.finish === undefined) return fail('truncated', 'the stream ended without a finish reason');
  return undefined;
}

function statusStop(path: string, status: number): Stop {
  const reason =
    status === 429
      ? 'http_429'
      : status >= 500
        ? 'http_5xx'
        : status >= 400
          ? 'http_4xx'
          : 'http_other';
  return { outcome: 'failure', reason, detail: `${path} answered HTTP ${status}` };
}

function transportStop(error: unknown, signal: AbortSignal): Stop {
  if (signal.aborted && !cancelOnly(signal))
    return { outcome: 'failure', reason: 'timeout_first_token', detail: 'no answer in time' };
  if (error instanceof HttpError && error.reason === 'timeout')
    return { outcome: 'failure', reason: 'timeout_first_token', detail: error.message };
  if (error instanceof HttpError && error.reason === 'too_large')
    return { outcome: 'failure', reason: 'too_large', detail: error.message };
  // An error code only: a transport's own message can quote what it was given.
  const code = errorCode(error);
  const message =
    error instanceof HttpError
      ? error.message
      : code
        ? `connection failed (${code})`
        : 'connection failed';
  return { outcome: 'failure', reason: 'connect', detail: message };
}

/** Whether the signal fired because the agent is stopping rather than the deadline. */
function cancelOnly(signal: AbortSignal): boolean {
  return signal.reason instanceof Error && signal.reason.name !== 'TimeoutError';
}

async function discard(body: AsyncIterable<Uint8Array>): Promise<void> {
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      if (bytes > SMALL_BODY_BYTES) break;
    }
  } catch {
    // The status already says what went wrong.
  }
}

function withoutAnswer(measured: Measured): Omit<Measured, 'answer'> {
  return Object.fromEntries(Object.entries(measured).filter(([key]) => key !== 'answer')) as Omit<
    Measured,
    'answer'
  >;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function base(url: string): string {
  return url.replace(/\/+$/, '');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
