import { openSync, closeSync, fstatSync, readSync } from 'node:fs';
import { builtinSuite } from './builtin.js';
import { BUILTIN_SUITE, type EvaluationConfig } from './config.js';
import { MAX_SUITE_BYTES, parseSuite, type EvalCase } from './suite.js';

/** A suite ready to run: its cases, and which runtimes and models it is for. */
export interface LoadedSuite {
  readonly name: string;
  readonly cases: readonly EvalCase[];
  readonly digest: string;
  /** Runtime kinds or target names; empty: all. */
  readonly runtimes: readonly string[];
  /** Matched against the whole served model name; empty: all. */
  readonly models: readonly RegExp[];
  readonly repeats: number;
}

export function appliesTo(
  suite: LoadedSuite,
  target: { readonly runtime: string; readonly target: string },
  model: string,
): boolean {
  const runtimeOk =
    suite.runtimes.length === 0 ||
    suite.runtimes.includes(target.runtime) ||
    suite.runtimes.includes(target.target);
  const modelOk = suite.models.length === 0 || suite.models.some((m) => m.test(model));
  return runtimeOk && modelOk;
}

/** Reads a suite file, refusing one larger than a suite may be. */
export function readSuiteFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_SUITE_BYTES) throw new Error(`larger than ${MAX_SUITE_BYTES} bytes`);
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The suites the config names (and the built-in one), each file read and every case checked.
 * Problems are named by config field, file, line and case id; any problem refuses the config.
 */
export function loadSuites(
  config: EvaluationConfig,
  read: (path: string) => string = readSuiteFile,
): { suites: LoadedSuite[]; problems: string[] } {
  const suites: LoadedSuite[] = [];
  const problems: string[] = [];
  if (config.builtin_suite) {
    const builtin = builtinSuite();
    problems.push(...builtin.problems);
    suites.push({
      name: BUILTIN_SUITE,
      cases: builtin.cases,
      digest: builtin.digest,
      runtimes: [],
      models: [],
      repeats: config.repeats,
    });
  }
  for (const [i, s] of config.suites.entries()) {
    const field = `evaluation.suites.${i}.file`;
    let text: string;
    try {
      text = read(s.file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(`${field}: ${s.file} cannot be read (${code ?? (error as Error).message})`);
      continue;
    }
    const parsed = parseSuite(text, s.file);
    if (parsed.problems.length > 0) {
      problems.push(...parsed.problems.map((p) => `${field}: ${p}`));
      continue;
    }
    suites.push({
      name: s.name,
      cases: parsed.cases,
      digest: parsed.digest,
      runtimes: s.runtimes,
      models: s.models.map((m) => new RegExp(`^(?:${m})$`)),
      repeats: s.repeats ?? config.repeats,
    });
  }
  return { suites, problems };
}
