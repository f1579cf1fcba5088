// @ts-check
/**
 * The agent's layering, as an ESLint rule. Each file belongs to a room; an import (a value, or
 * only a type) may reach only the rooms its room may depend on:
 *
 * - core: the framework (collector contract, scrape loop, exposition, exec, http): core only.
 * - shared: contracts between sources (the GPU families and reports, runtime endpoints, the
 *   generation APIs): core and shared.
 * - config: the schema composing each room's own block: core, shared and `config.ts` files.
 * - a source (each folder of agent/collectors, and probe, eval, proxy): core, shared, itself,
 *   the composed config's type, and the few other sources listed in SOURCE_EDGES, each with
 *   its reason.
 * - the composition root (agent/*.ts, collectors/index.ts, server, docs, tools, and each
 *   source's command.ts, which wires sources together for a person): anything in agent/.
 *
 * No file under agent/ imports demo/ or test/.
 */
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Edges between sources that stand, and why. An edge not listed here is an error. */
export const SOURCE_EDGES = {
  // The evaluation asks its questions through the probe: its client, its do-no-harm check
  // and its traffic ledger.
  eval: ['probe'],
  // The metering proxy fills runtime concepts, and the runtimes collector serves them.
  proxy: ['runtimes'],
  runtimes: ['proxy'],
  // Log sources name the runtime writing them: the runtime kinds.
  'runtime-logs': ['runtimes'],
};

/** @param {string} file a path relative to the repository root, with forward slashes */
export function roomOf(file) {
  const parts = file.split('/');
  if (parts[0] === 'demo' || parts[0] === 'test') return parts[0];
  if (parts[0] !== 'agent') return 'outside';
  const [, top, second] = parts;
  if (top === 'core' || top === 'shared' || top === 'config') return top;
  if (parts.at(-1) === 'command.ts') return 'root';
  if (top === 'collectors' && parts.length > 3) return `source:${second}`;
  if (top === 'probe' || top === 'eval' || top === 'proxy') return `source:${top}`;
  return 'root';
}

/**
 * Why `from` may not import `to`, or undefined when it may.
 * @param {string} from @param {string} to @param {boolean} typeOnly
 */
export function refusal(from, to, typeOnly) {
  const a = roomOf(from);
  const b = roomOf(to);
  if (a === 'outside' || a === 'demo' || a === 'test') return undefined;
  if (b === 'demo' || b === 'test') return `the agent never imports ${b}/ code`;
  if (a === b || a === 'root' || b === 'core') return undefined;
  if (b === 'shared' && a !== 'core') return undefined;
  // The composed config's type is what every factory is handed.
  if (typeOnly && to === 'agent/config/load.ts' && a !== 'core') return undefined;
  // The source factory contract names the services handed to sources.
  if (typeOnly && from === 'agent/shared/collector-factory.ts') return undefined;
  if (a === 'config' && to.endsWith('/config.ts')) return undefined;
  if (a.startsWith('source:') && b.startsWith('source:')) {
    const allowed = /** @type {Record<string, string[]>} */ (SOURCE_EDGES)[a.slice(7)] ?? [];
    if (allowed.includes(b.slice(7))) return undefined;
  }
  return `${a} may not import ${b}`;
}

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..'));

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: "keeps the agent's rooms layered (see eslint/layers.js)" },
    schema: [],
  },
  create(context) {
    const from = relative(ROOT, context.filename).split('\\').join('/');
    /** @param {any} node @param {string | undefined} spec @param {boolean} typeOnly */
    const check = (node, spec, typeOnly) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = relative(ROOT, join(dirname(context.filename), spec))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts');
      const why = refusal(from, to, typeOnly);
      if (why) context.report({ node, message: `${from} -> ${to}: ${why}` });
    };
    return {
      ImportDeclaration: (node) =>
        check(
          node,
          /** @type {string} */ (node.source.value),
          /** @type {any} */ (node).importKind === 'type',
        ),
      ExportNamedDeclaration: (node) =>
        node.source &&
        check(
          node,
          /** @type {string} */ (node.source.value),
          /** @type {any} */ (node).exportKind === 'type',
        ),
      ExportAllDeclaration: (node) => check(node, /** @type {string} */ (node.source.value), false),
      ImportExpression: (node) =>
        node.source.type === 'Literal' &&
        check(node, /** @type {string} */ (node.source.value), false),
    };
  },
};

export default { rules: { layers: rule } };
