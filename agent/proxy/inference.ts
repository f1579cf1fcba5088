import { DIALECTS, type Dialect } from '../shared/dialect.js';
import type { GenerationSurface } from '../shared/generation-api.js';

/**
 * Whether a request (its method and path, query left out) runs a generation on this runtime
 * (the paths its adapter declares), and the reader of its answer's events; undefined when it
 * does not. Where no reader is named (TGI's and SGLang's own `/generate`, Triton), a request
 * is measured for its duration and outcome only.
 */
export function generation(
  surface: GenerationSurface,
  method: string,
  url: string,
): { readonly dialect: Dialect | undefined } | undefined {
  if (method !== 'POST') return undefined;
  const path = url.split('?')[0] ?? '';
  const found = surface.paths.find(([p]) => (typeof p === 'string' ? p === path : p.test(path)));
  return found && { dialect: found[1] === undefined ? undefined : DIALECTS[found[1]] };
}

const MAX_MODEL_CHARS = 256;

/**
 * The model a request names, as the runtime's own API lists it (Ollama: `llama3.2` is
 * `llama3.2:latest`, the one /api/ps reports); '' for a runtime of one model, which answers
 * whatever name a client sends: its requests count under the model it says it serves (the
 * runtimes collector puts the served name on ''). Undefined for what cannot be a model name.
 */
export function servedModelName(surface: GenerationSurface, model: unknown): string | undefined {
  if (surface.oneModel) return '';
  if (typeof model !== 'string' || model === '' || model.length > MAX_MODEL_CHARS) return undefined;
  for (let i = 0; i < model.length; i++) if (model.charCodeAt(i) < 0x20) return undefined;
  return surface.servedName ? surface.servedName(model) : model;
}
