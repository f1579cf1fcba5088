import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedReadme, metricCatalogue } from '../../agent/docs/reference.js';
import { ROOT } from '../helpers/fixtures.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('shows the two quickstart commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });

  it('has config and metric references that match the code (run `npm run docs`)', () => {
    expect(readme).toBe(generatedReadme(readme));
  });

  it('lists every metric family once', () => {
    const names = metricCatalogue().map((m) => m.def.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(readme).toContain(`| \`${name}\` |`);
  });
});
