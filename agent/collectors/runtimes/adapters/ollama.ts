import { z } from 'zod';
import { getJson, requireJson, type RuntimeAdapter } from '../adapter.js';
import * as M from '../metrics.js';
import { ReadingBuilder, type Reading } from '../reading.js';

const VERSION = z.looseObject({ version: z.string() });
const PS = z.looseObject({
  models: z.array(
    z.looseObject({
      name: z.string(),
      size: z.number().nonnegative().optional(),
      size_vram: z.number().nonnegative().optional(),
    }),
  ),
});
const TAGS = z.looseObject({ models: z.array(z.looseObject({ name: z.string() })) });

export type OllamaPs = z.output<typeof PS>;
export type OllamaTags = z.output<typeof TAGS>;

export const ollama: RuntimeAdapter = {
  kind: 'ollama',
  defaultPorts: [11434],
  async identify(api) {
    return (await getJson(api, '/api/version', VERSION)) !== undefined;
  },
  async facts(api) {
    return { version: (await getJson(api, '/api/version', VERSION))?.version };
  },
  async read(api, _facts, target) {
    // /api/ps and /api/tags read what is there; neither loads or evicts a model.
    const [ps, tags] = await Promise.all([
      requireJson(api, '/api/ps', PS),
      getJson(api, '/api/tags', TAGS),
    ]);
    return mapOllama(ps, tags, target);
  },
};

/**
 * Ollama has no metrics endpoint (ollama/ollama#3144): its API says which models are loaded and
 * how much memory each holds, and which are installed. Nothing about requests or latency.
 */
export function mapOllama(ps: OllamaPs, tags: OllamaTags | undefined, target: string): Reading {
  const b = new ReadingBuilder('ollama', target, () => undefined);
  b.metricsSource = 'derived';
  b.mark('models', 'native');
  const loaded = new Set<string>();
  for (const model of ps.models) {
    loaded.add(model.name);
    b.gauge('models', M.MODEL_LOADED, model.name, 1, 'mean');
    if (model.size_vram !== undefined)
      b.gaugeWithLabels(M.MODEL_MEMORY, model.name, model.size_vram, { location: 'vram' });
    if (model.size !== undefined)
      b.gaugeWithLabels(M.MODEL_MEMORY, model.name, model.size, { location: 'total' });
  }
  for (const model of tags?.models ?? []) {
    if (!loaded.has(model.name)) b.gaugeWithLabels(M.MODEL_LOADED, model.name, 0, {});
  }
  return b.build();
}
