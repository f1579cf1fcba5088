import type { RuntimeKind } from '../collectors/runtimes/adapter.js';
import { DIALECTS, type Dialect } from '../probe/dialect.js';

const OPENAI: readonly Path[] = [
  ['/v1/chat/completions', DIALECTS['openai-chat']],
  ['/v1/completions', DIALECTS['openai-completions']],
];

/** A generation path, and the probe's reader of its stream where the probe speaks that API. */
type Path = readonly [string | RegExp, Dialect | undefined];

/**
 * The paths of each runtime that run a generation, by their own API documentation. Other
 * requests (model lists, health, embeddings, pulls) pass through unmeasured. Where no reader
 * is named (TGI's and SGLang's own `/generate`, Triton), a request is measured for its
 * duration and outcome only.
 */
const GENERATION_PATHS: Readonly<Record<RuntimeKind, readonly Path[]>> = {
  ollama: [
    ...OPENAI,
    ['/api/chat', DIALECTS['ollama-chat']],
    ['/api/generate', DIALECTS['ollama-chat']],
  ],
  llamacpp: [
    ...OPENAI,
    ['/chat/completions', DIALECTS['openai-chat']],
    ['/completions', DIALECTS['openai-completions']],
    ['/completion', DIALECTS['llamacpp-completion']],
    ['/infill', DIALECTS['llamacpp-completion']],
  ],
  vllm: OPENAI,
  sglang: [...OPENAI, ['/generate', undefined]],
  tgi: [...OPENAI, ['/generate', undefined], ['/generate_stream', undefined]],
  triton: [[/^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/generate(?:_stream)?$/, undefined]],
  nim: OPENAI,
};

/**
 * Whether a request (its method and path, query left out) runs a generation on this runtime,
 * and the reader of its answer's events; undefined when it does not.
 */
export function generation(
  runtime: RuntimeKind,
  method: string,
  url: string,
): { readonly dialect: Dialect | undefined } | undefined {
  if (method !== 'POST') return undefined;
  const path = url.split('?')[0] ?? '';
  const found = GENERATION_PATHS[runtime].find(([p]) =>
    typeof p === 'string' ? p === path : p.test(path),
  );
  return found && { dialect: found[1] };
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
