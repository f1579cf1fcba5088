/**
 * A probe's request: one streamed generation, timed on the monotonic clock from its events,
 * and the verdict on what came back.
 */
import { DIALECTS, type Dialect } from '../shared/dialect.js';
import type { GenerationApi } from '../shared/generation-api.js';
import { ndjsonFramer, sseFramer } from '../shared/framing.js';
import { StreamMeasure, type Measured } from './measure.js';
import { base, SMALL_BODY_BYTES, type Plan } from './plan.js';
import { cancelOnly, statusStop, transportStop, type Stop } from './stop.js';
import type { ProbeSettings, ProbeTarget, ProbeWorld, Question } from './types.js';

/** What one request gave: its status, what was measured, and why it failed, if it did. */
export interface Exchange {
  readonly httpStatus: number | undefined;
  readonly measured: Measured | undefined;
  /** Set when the run failed. */
  readonly stop: Stop | undefined;
}

/** One streamed request; a server without the chat endpoint may still complete text. */
export async function exchangeFor(
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

export function verdict(
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
