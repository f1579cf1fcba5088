import { z } from 'zod';
import {
  getJson,
  lenientList,
  lenientObject,
  requireJson,
  type RuntimeAdapter,
} from '../adapter.js';
import { OPENAI_PATHS } from '../../../shared/generation-api.js';
import * as M from '../metrics.js';
import { ReadingBuilder, type Reading } from '../reading.js';

const VERSION = lenientObject({ version: z.string() });
const PS = z.looseObject({
  models: lenientList(
    lenientObject({
      name: z.string(),
      size: z.number().nonnegative(),
      size_vram: z.number().nonnegative(),
    }).refine((m) => m.name !== undefined),
  ),
});
const TAGS = lenientObject({ models: lenientList(lenientObject({ name: z.string() })) });

export type OllamaPs = z.output<typeof PS>;

export const ollama: RuntimeAdapter<'ollama'> = {
  kind: 'ollama',
  defaultPorts: [11434],
  title: 'Ollama',
  generation: {
    probeApi: 'ollama-chat',
    paths: [...OPENAI_PATHS, ['/api/chat', 'ollama-chat'], ['/api/generate', 'ollama-chat']],
    queueFigures: false,
    // Ollama's model-name convention: a name without a tag is `:latest`, the one /api/ps reports.
    servedName: (model) =>
      model.slice(model.lastIndexOf('/') + 1).includes(':') ? model : `${model}:latest`,
  },
  coverage: {
    models: 'native: loaded, installed, VRAM and total bytes',
  },
  async identify(api) {
    return (await getJson(api, '/api/version', VERSION))?.version !== undefined;
  },
  async facts(api) {
    // Installed models change on a pull or a delete: read with the version, not every scrape.
    const [version, tags] = await Promise.all([
      getJson(api, '/api/version', VERSION),
      getJson(api, '/api/tags', TAGS),
    ]);
    return {
      version: version?.version,
      installedModels: tags?.models?.flatMap((m) => (m.name ? [m.name] : [])),
    };
  },
  async read(api, facts, target) {
    // /api/ps reads what is loaded; it never loads or evicts a model.
    return mapOllama(await requireJson(api, '/api/ps', PS), facts.installedModels ?? [], target);
  },
};

/**
 * Ollama has no metrics endpoint (ollama/ollama#3144): its API says which models are loaded and
 * how much memory each holds, and which are installed. Nothing about requests or latency.
 */
export function mapOllama(ps: OllamaPs, installed: readonly string[], target: string): Reading {
  const b = new ReadingBuilder('ollama', target, () => undefined);
  b.metricsSource = 'derived';
  b.mark('models', 'native');
  const loaded = new Set<string>();
  for (const model of ps.models) {
    const name = model.name ?? '';
    loaded.add(name);
    b.gauge('models', M.MODEL_LOADED, name, 1, 'mean');
    if (model.size_vram !== undefined)
      b.gaugeWithLabels(M.MODEL_MEMORY, name, model.size_vram, { location: 'vram' });
    if (model.size !== undefined)
      b.gaugeWithLabels(M.MODEL_MEMORY, name, model.size, { location: 'total' });
  }
  for (const model of installed) {
    if (!loaded.has(model)) b.gaugeWithLabels(M.MODEL_LOADED, model, 0, {});
  }

  return b.build();
}
