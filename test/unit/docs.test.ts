import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_SECTIONS, generatedPage, metricCatalogue } from '../../agent/docs/reference.js';
import { ALERT_PAGE, withAlertTable } from '../../alerts/src/alert-table.js';
import { ROOT } from '../helpers/fixtures.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const readme = read('README.md');
const PAGES = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const SETTINGS = read('alerts/settings.yaml');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const counts = new Map<string, number>();
  for (const [, heading] of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(heading ?? '');
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every Markdown link outside code blocks and inline code. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
}

describe('the README', () => {
  it('is a front door: the two quickstart commands, install paths, and a link to every page of docs/', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    for (const page of PAGES) expect(readme, page).toContain(`](${page})`);
  });
});

describe('the docs', () => {
  it.each(Object.keys(GENERATED_SECTIONS))(
    '%s has the tables the code makes (run `npm run bundle`)',
    (page) => {
      const text = read(page);
      expect(text).toBe(generatedPage(page, text));
    },
  );

  it("docs/alerts.md has the alert table the shipped settings' rules make (run `npm run bundle`)", () => {
    expect(read(ALERT_PAGE)).toBe(withAlertTable(read(ALERT_PAGE), SETTINGS));
  });

  it("writes another settings file's thresholds into the alert table", () => {
    const mine = SETTINGS.replace('thermal_throttle_ratio: 0.1', 'thermal_throttle_ratio: 0.25');
    const table = withAlertTable(read(ALERT_PAGE), mine);
    expect(table).toContain('thermal slowdown more than 25% of 15m');
    expect(table).not.toContain('thermal slowdown more than 10% of 15m');
  });

  it('list every metric family once', () => {
    const metrics = read('docs/metrics.md');
    const names = metricCatalogue().map((m) => m.def.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(metrics).toContain(`| \`${name}\` |`);
  });

  it('link only files of the project and headings that exist', () => {
    const broken: string[] = [];
    for (const file of ['README.md', ...PAGES]) {
      for (const link of links(read(file))) {
        if (/^[a-z]+:/.test(link)) continue;
        const [path = '', anchor] = link.split('#');
        const target = path ? normalize(join(dirname(file), path)) : file;
        if (target.startsWith('..') || !existsSync(join(ROOT, target))) {
          broken.push(`${file}: ${link}`);
          continue;
        }
        if (anchor && target.endsWith('.md') && !anchors(read(target)).has(anchor))
          broken.push(`${file}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('refer to nothing outside the project', () => {
    for (const file of ['README.md', ...PAGES])
      expect(read(file), file).not.toMatch(/\.\.\/shared|DESIGN\.md|research\//);
  });
});
