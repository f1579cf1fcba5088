import type { RuntimeEndpoint } from '../collectors/runtime-endpoints.js';
import type { AgentConfig } from '../config/load.js';
import { VERSION } from '../version.js';
import type { ProbeApi } from './dialect.js';
import type { Canary, ProbeSettings, ProbeTarget } from './types.js';

export type ProbeConfig = AgentConfig['probe'];

/** Runtimes with no generation API at the address the agent reads (Triton: its metrics port). */
const NOT_PROBED = new Set(['triton']);

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
    if (o?.enabled === false || NOT_PROBED.has(e.runtime)) return [];
    const api: ProbeApi = o?.api ?? (e.runtime === 'ollama' ? 'ollama-chat' : 'openai-chat');
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
        // Ollama reports no queue; its check is whether the model is loaded (/api/ps).
        ...(e.runtime === 'ollama'
          ? {}
          : { readLoad: (signal: AbortSignal) => e.readLoad(signal) }),
      },
    ];
  });
}
