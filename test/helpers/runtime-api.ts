import { expect, it } from 'vitest';
import type { RuntimeAdapter, RuntimeApi } from '../../agent/collectors/runtimes/adapter.js';
import { CONCEPTS, type Concept } from '../../agent/collectors/runtimes/reading.js';
import { readFixture } from './fixtures.js';

/** A runtime's HTTP API answering from files; every path asked is kept. */
export function apiOf(answers: Record<string, string>): RuntimeApi & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get: async (path: string) => {
      asked.push(path);
      const body = answers[path];
      return body === undefined ? { status: 404, body: 'Not Found' } : { status: 200, body };
    },
  };
}

/** One captured state of a runtime: each path it answers, with the fixture it answers from. */
export type Capture = Readonly<Record<string, string>>;

type Kind = 'native' | 'derived';

/**
 * The adapter's column of the runtime table (docs/runtimes.md) against what it reads from its captures: every concept a capture
 * gives is declared, as native or derived the way the captures give it; a declared concept no
 * capture gives must be named in `notCaptured` (its cell rests on the runtime's documentation).
 */
export function itDeclaresWhatItReads(
  adapter: RuntimeAdapter,
  captures: readonly Capture[],
  notCaptured: readonly Concept[] = [],
) {
  it(`declares in its runtime-table column what it reads from its ${captures.length} captures`, async () => {
    const seen = new Map<Concept, Set<Kind>>();
    for (const capture of captures) {
      const api = apiOf(
        Object.fromEntries(
          Object.entries(capture).map(([p, f]) => [p, readFixture('runtimes', f)]),
        ),
      );
      const reading = await adapter.read(api, await adapter.facts(api), 'target');
      for (const [concept, { source }] of reading.concepts) {
        if (source === 'none') continue;
        const kinds = seen.get(concept) ?? new Set();
        kinds.add(source === 'native' ? 'native' : 'derived');
        seen.set(concept, kinds);
      }
    }
    const kindsIn = (cell: string) =>
      (['native', 'derived'] as const).filter((k) => cell.includes(k));
    const read = Object.fromEntries(
      CONCEPTS.filter((c) => seen.has(c)).map((c) => [c, [...seen.get(c)!].sort()]),
    );
    const declared = Object.fromEntries(
      CONCEPTS.filter((c) => adapter.coverage[c] !== undefined && !notCaptured.includes(c)).map(
        (c) => [
          c,
          kindsIn(adapter.coverage[c]!)
            .filter((k) => seen.get(c)?.has(k) ?? true)
            .sort(),
        ],
      ),
    );
    expect(read).toEqual(declared);
    for (const c of notCaptured) expect(adapter.coverage[c], c).toBeDefined();
  });
}
