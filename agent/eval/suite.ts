import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ChatMessage } from '../shared/dialect.js';

/** A case id: a label value where failing cases are exported. */
export const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const MAX_CASES = 2000;
export const MAX_LINE_BYTES = 64 * 1024;
export const MAX_SUITE_BYTES = 8 * 1024 * 1024;

/** What an answer must be. Checked in memory; the answer goes no further. */
export type Expectation =
  | { readonly kind: 'regex'; readonly pattern: RegExp }
  | { readonly kind: 'exact'; readonly text: string; readonly caseSensitive: boolean }
  | {
      readonly kind: 'number';
      readonly value: number;
      readonly tolerance: number;
      readonly pick: 'first' | 'last';
    }
  | { readonly kind: 'json_schema'; readonly schema: z.ZodType }
  | { readonly kind: 'one_of'; readonly options: readonly string[] };

export interface EvalCase {
  readonly id: string;
  /** The question: one user turn, or a conversation ending in one. */
  readonly messages: readonly ChatMessage[];
  readonly expect: Expectation;
  readonly maxTokens: number | undefined;
  readonly repeats: number | undefined;
}

export interface ParsedSuite {
  readonly cases: readonly EvalCase[];
  /** Over the cases as parsed, so reformatting a file does not make it another suite. */
  readonly digest: string;
  /** Every bad line, named by its line number and case id. */
  readonly problems: readonly string[];
}

const validRegex = (pattern: string) => {
  try {
    new RegExp(pattern, 'i');
    return true;
  } catch {
    return false;
  }
};

const message = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().min(1).max(32_768),
});

const caseShape = z
  .strictObject({
    id: z
      .string()
      .regex(
        CASE_ID,
        'must be 1 to 64 of A-Z, a-z, 0-9, ., _, : and -, starting with a letter or digit',
      ),
    prompt: z.string().min(1).max(32_768).optional(),
    messages: z.array(message).min(1).max(64).optional(),
    expect: z.record(z.string(), z.unknown()),
    max_tokens: z.int().min(1).max(4096).optional(),
    repeats: z.int().min(1).max(10).optional(),
  })
  .refine((c) => (c.prompt === undefined) !== (c.messages === undefined), {
    message: 'needs either prompt or messages',
    path: ['prompt'],
  })
  .refine((c) => c.messages === undefined || c.messages.at(-1)?.role === 'user', {
    message: 'the last message must be the user’s',
    path: ['messages'],
  });

const EXPECTATIONS = {
  regex: z.strictObject({
    regex: z.string().min(1).max(2000).refine(validRegex, 'must be a valid regular expression'),
    case_sensitive: z.boolean().default(false),
  }),
  exact: z.strictObject({
    exact: z.string().max(10_000),
    case_sensitive: z.boolean().default(true),
  }),
  number: z.strictObject({
    number: z.number(),
    tolerance: z.number().min(0).default(0),
    pick: z.enum(['first', 'last']).default('last'),
  }),
  json_schema: z.strictObject({ json_schema: z.record(z.string(), z.unknown()) }),
  one_of: z.strictObject({ one_of: z.array(z.string().min(1).max(1000)).min(1).max(100) }),
} as const;
const KINDS = Object.keys(EXPECTATIONS) as (keyof typeof EXPECTATIONS)[];

/** The expectation of a case, or what is wrong with it (paths relative to the case). */
function expectationOf(raw: Record<string, unknown>): Expectation | string[] {
  const kinds = KINDS.filter((k) => Object.hasOwn(raw, k));
  if (kinds.length !== 1) return [`expect: needs exactly one of ${KINDS.join(', ')}`];
  const kind = kinds[0] as (typeof KINDS)[number];
  const parsed = EXPECTATIONS[kind].safeParse(raw);
  if (!parsed.success) return issues(parsed.error, 'expect');
  const e = parsed.data as Record<string, unknown>;
  switch (kind) {
    case 'regex':
      return { kind, pattern: new RegExp(e.regex as string, e.case_sensitive ? '' : 'i') };
    case 'exact':
      return { kind, text: e.exact as string, caseSensitive: e.case_sensitive as boolean };
    case 'number':
      return {
        kind,
        value: e.number as number,
        tolerance: e.tolerance as number,
        pick: e.pick as 'first' | 'last',
      };
    case 'json_schema':
      try {
        return { kind, schema: z.fromJSONSchema(e.json_schema as never) };
      } catch (error) {
        return [
          `expect.json_schema: not a JSON Schema this agent can check (${(error as Error).message})`,
        ];
      }
    case 'one_of':
      return { kind, options: e.one_of as string[] };
  }
}

function issues(error: z.ZodError, prefix?: string): string[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return `${path || '(case)'}: ${i.message}`;
  });
}

/**
 * A JSONL suite: one case a line, blank lines allowed. Every bad line is named with its number
 * and, where it has one, its id; a suite with any problem is refused whole.
 */
export function parseSuite(text: string, source: string): ParsedSuite {
  const problems: string[] = [];
  const cases: EvalCase[] = [];
  const ids = new Set<string>();
  const canonical: unknown[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `${source}:${index + 1}`;
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
      problems.push(`${where}: longer than ${MAX_LINE_BYTES} bytes`);
      continue;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      problems.push(`${where}: not a JSON object`);
      continue;
    }
    const id =
      typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id
        : undefined;
    const named = id !== undefined && CASE_ID.test(id) ? `${where} (case ${id})` : where;
    const parsed = caseShape.safeParse(raw);
    if (!parsed.success) {
      problems.push(...issues(parsed.error).map((p) => `${named}: ${p}`));
      continue;
    }
    const c = parsed.data;
    const expect = expectationOf(c.expect);
    if (Array.isArray(expect)) {
      problems.push(...expect.map((p) => `${named}: ${p}`));
      continue;
    }
    if (ids.has(c.id)) {
      problems.push(`${named}: the id is used by an earlier case`);
      continue;
    }
    ids.add(c.id);
    if (cases.length === MAX_CASES) {
      problems.push(`${where}: more than ${MAX_CASES} cases`);
      break;
    }
    canonical.push(c);
    cases.push({
      id: c.id,
      messages: c.messages ?? [{ role: 'user', content: c.prompt as string }],
      expect,
      maxTokens: c.max_tokens,
      repeats: c.repeats,
    });
  }
  if (problems.length === 0 && cases.length === 0) problems.push(`${source}: holds no case`);
  const digest = createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
  return { cases, digest, problems };
}
