import { readFileSync } from 'node:fs';

/** A captured `nvidia-smi --query-*=... --format=csv` output: the header's field names and the rows. */
export interface Capture {
  readonly fields: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export function readCapture(path: string): Capture {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const [header = '', ...rows] = lines;
  return {
    fields: header.split(', ').map((h) => h.replace(/ \[[^\]]+\]$/, '').trim()),
    rows: rows.map((r) => r.split(', ')),
  };
}

/** A value as `--format=csv,nounits` prints it. */
export function withoutUnit(value: string): string {
  return value.replace(/^([+-]?\d+(?:\.\d+)?) (?:MiB|%|W|MHz|us|ms)$/, '$1');
}

/**
 * The row a driver would print for `--query-gpu=<fields> --format=csv,noheader,nounits`, given
 * a capture holding every field; `missing` names a field the capture's driver lacks.
 */
export function project(
  capture: Capture,
  row: readonly string[],
  fields: readonly string[],
  overrides: Readonly<Record<string, string>> = {},
  units = false,
): { line: string } | { missing: string } {
  const cells: string[] = [];
  for (const field of fields) {
    const i = capture.fields.indexOf(field);
    if (i === -1) return { missing: field };
    const value = overrides[field] ?? row[i] ?? '';
    cells.push(units ? value : withoutUnit(value));
  }
  return { line: cells.join(', ') };
}
