import type { Expectation } from './suite.js';

const NUMBER = /[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?/g;
const WRAPPING = /^["'`*_\s]+|["'`*_\s.!?;:]+$/g;

/**
 * Whether an answer meets its case's expectation. Pure and in memory: the answer is not kept.
 * Models dress answers up (quotes, bold, a final period, a fenced JSON block); each check
 * looks through what does not change the meaning and no further.
 */
export function judge(expect: Expectation, answer: string): boolean {
  switch (expect.kind) {
    case 'regex':
      return expect.pattern.test(answer);
    case 'exact': {
      const a = collapse(answer);
      const b = collapse(expect.text);
      return expect.caseSensitive ? a === b : a.toLowerCase() === b.toLowerCase();
    }
    case 'number': {
      const numbers = [...answer.matchAll(NUMBER)].map((m) => Number(m[0].replace(/,/g, '')));
      const picked = expect.pick === 'first' ? numbers[0] : numbers.at(-1);
      return (
        picked !== undefined &&
        Number.isFinite(picked) &&
        Math.abs(picked - expect.value) <= expect.tolerance + 1e-9 * Math.abs(expect.value)
      );
    }
    case 'json_schema': {
      const value = jsonIn(answer);
      return value !== undefined && expect.schema.safeParse(value).success;
    }
    case 'one_of': {
      const a = bare(answer);
      return expect.options.some((o) => bare(o) === a);
    }
  }
}

function collapse(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/** Lower case, without surrounding quotes, markdown emphasis and closing punctuation. */
function bare(text: string): string {
  return collapse(text).replace(WRAPPING, '').toLowerCase();
}

/** The JSON value an answer holds: all of it, a fenced block, or its outermost braces. */
export function jsonIn(answer: string): unknown {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/i.exec(answer)?.[1];
  const candidates = [answer.trim(), fenced?.trim()];
  const open = answer.search(/[{[]/);
  if (open >= 0) {
    const close = answer.lastIndexOf(answer[open] === '{' ? '}' : ']');
    if (close > open) candidates.push(answer.slice(open, close + 1));
  }
  for (const text of candidates) {
    if (!text) continue;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // the next form
    }
  }
  return undefined;
}
