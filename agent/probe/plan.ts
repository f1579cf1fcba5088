/**
 * Before a probe's request: whether the runtime is too busy to be asked, and which model to
 * ask (with Ollama, also the keep-alive that leaves its expiry where it was).
 */
import { z } from 'zod';
import type { ProbeSettings, ProbeTarget, ProbeWorld } from './types.js';
import { statusStop, transportStop, type Stop } from './stop.js';

/** The load check and model lookup are small reads; they get this much of the budget at most. */
export const PRE_CHECK_MS = 5000;

/** The cap on the small JSON answers read before the request, and on an error's body. */
export const SMALL_BODY_BYTES = 1024 * 1024;

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

export interface Plan {
  readonly model: string | undefined;
  readonly keepAliveS: number | undefined;
  /** What identifies the model's weights, where the runtime says (see ProbeResult). */
  readonly weights?: string | undefined;
}

function weightsOf(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value.slice(0, MAX_WEIGHTS_CHARS);
}

/** Skip, not fail, when the runtime is busy: a probe must not queue ahead of users. */
export async function saturation(
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
export async function planRequest(
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function base(url: string): string {
  return url.replace(/\/+$/, '');
}
