import { createHash } from 'node:crypto';
import { modelName } from '../shared/model-name.js';
import { exchangeFor } from './exchange.js';
import type { Measured } from './measure.js';
import { planRequest, PRE_CHECK_MS, saturation } from './plan.js';
import type { Stop } from './stop.js';
import type {
  Canary,
  ProbeModule,
  ProbeResult,
  ProbeSettings,
  ProbeTarget,
  ProbeWorld,
  Question,
} from './types.js';

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

function withoutAnswer(measured: Measured): Omit<Measured, 'answer'> {
  return Object.fromEntries(Object.entries(measured).filter(([key]) => key !== 'answer')) as Omit<
    Measured,
    'answer'
  >;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
