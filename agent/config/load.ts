import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { readSmallFile, SmallFileError } from '../core/small-file.js';
import { ConfigSchema, type Config } from './schema.js';

const MAX_CONFIG_BYTES = 1024 * 1024;

/** Invalid configuration: every problem, each named by its path. Exit code 2. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type AgentConfig = DeepReadonly<Config>;

/** Validates raw input once, at the edge; what comes back is typed, defaulted and frozen. */
export function parseConfig(raw: unknown, source = 'config'): AgentConfig {
  const result = ConfigSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return deepFreeze(result.data);
}

export function parseConfigText(text: string, source: string): AgentConfig {
  return parseConfig(parseYaml(text, source), source);
}

/** The YAML document as plain data, before validation (so flags can override fields). */
export function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => `YAML: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`),
    );
  }
  return doc.toJS();
}

export async function loadConfigFile(path: string): Promise<AgentConfig> {
  return parseConfig(await readConfigFile(path), path);
}

/** Reads and parses the YAML file, size-capped; validation is left to parseConfig. */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readSmallFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof SmallFileError) throw new ConfigError(path, [error.message]);
    throw new ConfigError(path, [`cannot read: ${(error as Error).message}`]);
  }
  return parseYaml(text, path);
}

/** Each zod issue as `path: message`; an unknown key named as such. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return `${path === '(top level)' ? '' : `${path}.`}${issue.keys.join(', ')}: unknown field`;
    }
    return `${path}: ${issue.message}`;
  });
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
