import { CONCEPTS, type Concept } from './reading.js';
import type { RuntimeTarget } from './target.js';

/** Whether a runtime has no figure of its own for a concept, by its last read (or no read yet). */
export function lacks(target: RuntimeTarget, concept: Concept): boolean {
  return (target.reader.last?.value.reading.concepts.get(concept)?.source ?? 'none') === 'none';
}

/** Doctor names up to 20 models, and counts the rest: a line per person, not per adapter. */
function namedModels(models: readonly string[]): string {
  const named = models.filter((m) => m !== '');
  if (named.length === 0) return '-';
  const shown = named.slice(0, 20).join(', ');
  return named.length > 20 ? `${shown} and ${named.length - 20} more` : shown;
}

/** The runtime's lines in doctor: what it is, its models, and where each concept comes from. */
export function describeTarget(t: RuntimeTarget, proxied: readonly Concept[]): string {
  const kind = t.adapter?.kind ?? 'unidentified';
  const head = `${t.name} (${t.url}): ${kind}${t.facts.version ? ` ${t.facts.version}` : ''}`;
  const problem = t.credentialProblem ?? t.problem;
  if (problem) return `${head}; problem: ${problem}`;
  const served = t.reader.last?.value;
  if (!served) return `${head}; not read yet`;
  const { reading } = served;
  const sourceOf = (c: Concept) =>
    proxied.includes(c) ? 'proxy' : (reading.concepts.get(c)?.source ?? 'none');
  const by = (source: string) => CONCEPTS.filter((c) => sourceOf(c) === source).join(', ') || '-';
  return [
    head,
    `    models: ${namedModels(reading.models)}`,
    ...(served.dropped > 0
      ? [`    models left out: ${served.dropped} (over collectors.runtimes.max_models)`]
      : []),
    `    native: ${by('native')}`,
    `    derived: ${by('derived')}`,
    ...(proxied.length ? [`    proxy: ${by('proxy')}`] : []),
    `    missing: ${by('none')}`,
    ...reading.notes.map((n) => `    note: ${n}`),
  ].join('\n');
}
