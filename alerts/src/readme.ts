/** `npm run docs` (with the agent's references): the README's alert table, from the rules. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceSection } from '../../agent/docs/reference.js';
import { parseSettings } from './settings.js';
import { alertReference } from './reference.js';

/** The repository root, from the built file (dist/alerts/src/readme.js). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The README with its alert table made from alerts/settings.yaml's rules. */
export function readmeWithAlerts(readme: string, settingsText: string): string {
  const settings = parseSettings(settingsText, 'alerts/settings.yaml');
  return replaceSection(readme, 'alert-reference', alertReference(settings));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = join(ROOT, 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = readmeWithAlerts(before, readFileSync(join(ROOT, 'alerts/settings.yaml'), 'utf8'));
  writeFileSync(file, after);
  console.log(
    before === after ? 'README.md alert table is up to date' : 'README.md alert table updated',
  );
}
