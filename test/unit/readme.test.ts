import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedReadme, metricCatalogue } from '../../agent/docs/reference.js';
import { readmeWithAlerts } from '../../alerts/src/readme.js';
import { ROOT } from '../helpers/fixtures.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('shows the two quickstart commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });

  it('has config and metric references that match the code (run `npm run bundle`)', () => {
    expect(readme).toBe(generatedReadme(readme));
  });

  it("has the alert table the shipped settings' rules make (run `npm run bundle`)", () => {
    const settings = readFileSync(join(ROOT, 'alerts/settings.yaml'), 'utf8');
    expect(readme).toBe(readmeWithAlerts(readme, settings));
  });

  it("writes another settings file's thresholds into the alert table", () => {
    const settings = readFileSync(join(ROOT, 'alerts/settings.yaml'), 'utf8').replace(
      'thermal_throttle_ratio: 0.1',
      'thermal_throttle_ratio: 0.25',
    );
    const table = readmeWithAlerts(readme, settings);
    expect(table).toContain('thermal slowdown more than 25% of 15m');
    expect(table).not.toContain('thermal slowdown more than 10% of 15m');
  });

  it('lists every metric family once', () => {
    const names = metricCatalogue().map((m) => m.def.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(readme).toContain(`| \`${name}\` |`);
  });
});
