import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function readFixture(...parts: string[]): string {
  return readFileSync(fixture(...parts), 'utf8');
}

export function fixturesMatching(dir: string, pattern: RegExp): string[] {
  return readdirSync(fixture(dir))
    .filter((f) => pattern.test(f))
    .map((f) => fixture(dir, f));
}
