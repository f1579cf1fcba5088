import { z } from 'zod';
import type { Labels } from '../../../core/metric.js';
import type { ParsedExposition } from '../../../core/prom-text.js';
import { lenientList, lenientObject, type Facts } from '../adapter.js';
import * as M from '../metrics.js';
import { modelName } from '../../../shared/model-name.js';
import { ReadingBuilder } from '../reading.js';
import { MetricsView } from '../view.js';

/**
 * A builder for a runtime whose series carry the served model in `model_name` (vLLM, SGLang,
 * NIM): every model named anywhere in the exposition counts as served, and the model from the
 * runtime's API stands in where no series names one yet. `modelLabel` returns undefined for a
 * series to leave out.
 */
export function modelLabelledReading(
  runtime: string,
  exposition: ParsedExposition,
  facts: Facts,
  target: string,
  modelLabel: (labels: Labels) => string | undefined | null = (labels) => labels.model_name,
): { b: ReadingBuilder; view: MetricsView } {
  const view = new MetricsView(exposition);
  const fallback = modelName(facts.model);
  const b = new ReadingBuilder(runtime, target, (labels: Labels) => {
    const label = modelLabel(labels);
    if (label === null) return undefined;
    return modelName(label) ?? fallback ?? '';
  });
  b.metricsSource = 'native';
  b.skippedLines = exposition.badLines;
  for (const model of view.labelValues('model_name')) b.addModel(modelName(model) ?? model);
  if (fallback && b.models.length === 0) b.addModel(fallback);
  return { b, view };
}

/** A runtime serving a model has it loaded. */
export function loadedModels(b: ReadingBuilder): void {
  for (const model of b.models) {
    if (model !== '') b.gauge('models', M.MODEL_LOADED, model, 1, 'mean', { derived: true });
  }
}

/** An OpenAI-compatible `/v1/models` answer, as the runtimes that serve one list their models. */
export const OPENAI_MODEL_LIST = lenientObject({
  data: lenientList(lenientObject({ id: z.string(), owned_by: z.string() })),
});

/**
 * The reading of a runtime whose metrics endpoint is switched off (it answered 404 or 501):
 * found, its figures derived from its API, and doctor told how to switch its metrics on.
 */
export function metricsOffReading(
  runtime: string,
  target: string,
  status: number,
  advice: string,
): ReadingBuilder {
  const b = new ReadingBuilder(runtime, target, () => undefined);
  b.metricsSource = 'derived';
  b.notes.push(`/metrics answered HTTP ${status}: ${advice}`);
  return b;
}
