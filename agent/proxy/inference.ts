import type { RuntimeKind } from '../collectors/runtimes/adapter.js';

const OPENAI = ['/v1/chat/completions', '/v1/completions'];

/**
 * The paths of each runtime that run a generation, by their own API documentation. Other
 * requests (model lists, health, embeddings, pulls) pass through unmeasured.
 */
const GENERATION_PATHS: Readonly<Record<RuntimeKind, readonly (string | RegExp)[]>> = {
  ollama: [...OPENAI, '/api/chat', '/api/generate'],
  llamacpp: [...OPENAI, '/chat/completions', '/completions', '/completion', '/infill'],
  vllm: OPENAI,
  sglang: [...OPENAI, '/generate'],
  tgi: [...OPENAI, '/generate', '/generate_stream'],
  triton: [/^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/generate(?:_stream)?$/],
  nim: OPENAI,
};

/** Whether a request (its method and path, query left out) runs a generation on this runtime. */
export function isGeneration(runtime: RuntimeKind, method: string, url: string): boolean {
  if (method !== 'POST') return false;
  const path = url.split('?')[0] ?? '';
  return GENERATION_PATHS[runtime].some((p) => (typeof p === 'string' ? p === path : p.test(path)));
}

const MAX_MODEL_CHARS = 256;

/**
 * Runtimes that serve one model per process and answer whatever model name a client sends:
 * their requests are counted under the model the runtime says it serves (''; the runtimes
 * collector puts the served name on it), not under the name a client made up.
 */
const ONE_MODEL: ReadonlySet<RuntimeKind> = new Set(['llamacpp', 'tgi']);

/**
 * The model a request names, as the runtime's own API lists it: Ollama adds `:latest` to a
 * name without a tag (its model-name convention), so `llama3.2` and `llama3.2:latest` are one
 * model, the one /api/ps reports; '' for a runtime of one model (see ONE_MODEL). Undefined for
 * what cannot be a model name.
 */
export function servedModelName(runtime: RuntimeKind, model: unknown): string | undefined {
  if (ONE_MODEL.has(runtime)) return '';
  if (typeof model !== 'string' || model === '' || model.length > MAX_MODEL_CHARS) return undefined;
  for (let i = 0; i < model.length; i++) if (model.charCodeAt(i) < 0x20) return undefined;
  if (runtime === 'ollama' && !model.slice(model.lastIndexOf('/') + 1).includes(':'))
    return `${model}:latest`;
  return model;
}
