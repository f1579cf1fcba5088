/** `npm run docs`: regenerates the README's config, metric and runtime references from the code. */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedReadme } from '../docs/reference.js';

const readme = join(dirname(fileURLToPath(import.meta.url)), '../../../README.md');
const before = readFileSync(readme, 'utf8');
const after = generatedReadme(before);
writeFileSync(readme, after);
console.log(before === after ? 'README.md is up to date' : 'README.md updated');
