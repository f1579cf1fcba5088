import type { RuntimeEndpoint } from '../shared/runtime-endpoints.js';
import type { AgentConfig } from '../config/load.js';
import { VERSION } from '../core/version.js';
import type { GenerationApi } from '../shared/generation-api.js';
import type { Canary, ProbeSettings, ProbeTarget } from './types.js';

export type ProbeConfig = AgentConfig['probe'];

/** The probe's config block, turned into what a run works with. */
export function probeSettings(config: ProbeConfig): ProbeSettings {
  return {
    timeoutMs: config.timeout_ms,
    stallMs: config.stall_ms,
    maxTokens: config.max_tokens,
    canaryMaxTokens: config.canary.max_tokens,
    maxBodyBytes: config.max_body_bytes,
    latencyPrompt: config.prompt,
    skipWhen: {
      waitingAbove: config.skip_when.requests_waiting_above,
      kvCacheUsageAbove: config.skip_when.kv_cache_usage_above,
    },
    user: config.marker.user === '' ? undefined : config.marker.user,
    requestIdPrefix: config.marker.request_id_prefix,
    userAgent: `inferwatch/${VERSION} (synthetic-probe)`,
    loadModels: config.ollama.load_models,
  };
}

export function canariesOf(config: ProbeConfig): Canary[] {
  return config.canary.prompts.map((c) => ({
    name: c.name,
    prompt: c.prompt,
    expect: new RegExp(c.expect, 'i'),
  }));
}

/** The runtimes to probe: every one the agent reads, with its per-target settings. */
export function probeTargets(
  endpoints: readonly RuntimeEndpoint[],
  config: ProbeConfig,
): ProbeTarget[] {
  const overrides = new Map(config.targets.map((t) => [t.target, t]));
  return endpoints.flatMap((e) => {
    const o = overrides.get(e.target);
    // A runtime whose adapter names no API serves no generations where the agent reads it.
    const defaultApi = e.generation.probeApi;
    if (o?.enabled === false || defaultApi === undefined) return [];
    const api: GenerationApi = o?.api ?? defaultApi;
    return [
      {
        target: e.target,
        runtime: e.runtime,
        url: e.probeUrl,
        headers: e.headers,
        api,
        apiPinned: o?.api !== undefined,
        model: o?.model,
        promptTokensCounted: e.promptTokensCounted,
        // Without queue figures (Ollama) the check is whether the model is loaded (/api/ps).
        ...(e.generation.queueFigures
          ? { readLoad: (signal: AbortSignal) => e.readLoad(signal) }
          : {}),
      },
    ];
  });
}
