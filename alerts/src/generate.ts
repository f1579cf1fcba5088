/**
 * `npm run bundle`: everything generated, from one settings file and the code.
 * - With no `--out`: the repository's own files. The rule file, the dashboards and the
 *   Kubernetes manifests (which embed both), the tables of docs/ (alerts, runtimes, metrics,
 *   config) and the runbook pages the agent serves. A test fails when any is stale.
 * - With `--out DIR`: a site's own bundle (rules, dashboards, manifests) from its copy of the
 *   settings, with its runbook base URL, job names, cluster label and thresholds.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GENERATED_SECTIONS, generatedPage } from '../../agent/docs/reference.js';
import { dashboardFiles } from '../../dashboards/src/generate.js';
import { CHART_DIR } from '../../deploy/kubernetes/src/chart.js';
import { deployFiles, manifestsText } from '../../deploy/kubernetes/src/manifests.js';
import { ALERT_PAGE, withAlertTable } from './alert-table.js';
import { runbookPage, runbookPagesModule } from './runbook-pages.js';
import { ruleGroups, rulesText } from './rules.js';
import { parseSettings } from './settings.js';

/** The repository root: above the built file (dist/alerts/src/) or the source (alerts/src/). */
const ROOT = repositoryRoot(dirname(fileURLToPath(import.meta.url)));

function repositoryRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir))
    if (existsSync(join(dir, 'package.json'))) return dir;
  throw new Error(`no package.json above ${from}`);
}
const DEFAULT_SETTINGS = join(ROOT, 'alerts/settings.yaml');
const USAGE = 'usage: npm run bundle [-- --settings FILE] [--out DIR|FILE.yml]';

/** Where each artifact goes: the repository's own places, or one folder of the user's. */
function places(out: string | undefined) {
  if (out === undefined)
    return {
      rules: join(ROOT, 'alerts/inferwatch.rules.yml'),
      dashboards: join(ROOT, 'dashboards'),
      manifests: join(ROOT, 'deploy/kubernetes/inferwatch.yaml'),
      chart: join(ROOT, CHART_DIR),
    };
  return {
    rules: join(out, 'inferwatch.rules.yml'),
    dashboards: join(out, 'dashboards'),
    manifests: join(out, 'kubernetes/inferwatch.yaml'),
    chart: join(out, 'helm/inferwatch'),
  };
}

/** The bundle's files, by path, made from one settings file's text. */
export function bundleFiles(
  settingsText: string,
  source: string,
  out?: string,
): Map<string, string> {
  const settings = parseSettings(settingsText, source);
  const to = places(out);
  const dashboards = dashboardFiles(settings);
  const files = new Map<string, string>([[to.rules, rulesText(settings, source)]]);
  for (const [file, text] of dashboards) files.set(join(to.dashboards, file), text);
  const deploy = deployFiles(ruleGroups(settings), dashboards, settings.kubernetes);
  files.set(to.manifests, manifestsText(deploy.manifests));
  for (const [path, text] of deploy.chart) files.set(join(to.chart, path), text);
  return files;
}

/** The runbooks, by alert name, as runbooks/ holds them. */
export async function readRunbooks(dir = join(ROOT, 'runbooks')): Promise<Map<string, string>> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.md') && f !== 'README.md');
  const entries = await Promise.all(
    names.map(async (f) => [f.slice(0, -3), await readFile(join(dir, f), 'utf8')] as const),
  );
  return new Map(entries);
}

/** The pages of docs/ with generated sections, by their path from the repository root. */
export async function readPages(): Promise<Map<string, string>> {
  const paths = [...new Set([...Object.keys(GENERATED_SECTIONS), ALERT_PAGE])];
  return new Map(
    await Promise.all(paths.map(async (p) => [p, await readFile(join(ROOT, p), 'utf8')] as const)),
  );
}

/** The generated files that document or serve the bundle: the docs' tables, the runbook pages. */
export function repositoryFiles(
  settingsText: string,
  pages: ReadonlyMap<string, string>,
  runbooks: ReadonlyMap<string, string>,
): Map<string, string> {
  const files = new Map<string, string>();
  for (const [path, text] of pages) {
    const made = generatedPage(path, text);
    files.set(join(ROOT, path), path === ALERT_PAGE ? withAlertTable(made, settingsText) : made);
  }
  const made = [...runbooks].map(([alert, markdown]) => runbookPage(alert, markdown));
  files.set(join(ROOT, 'agent/server/runbook-pages.ts'), runbookPagesModule(made));
  return files;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { settings: { type: 'string' }, out: { type: 'string' } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const from = values.settings ?? DEFAULT_SETTINGS;
  const source = values.settings ?? 'alerts/settings.yaml';
  try {
    const text = await readFile(from, 'utf8');
    // A single .yml names the rule file alone, as before the bundle was one command.
    if (values.out?.endsWith('.yml') || values.out?.endsWith('.yaml')) {
      await writeFile(values.out, rulesText(parseSettings(text, source), source));
      console.log(`${values.out} written from ${from}`);
      return 0;
    }
    const files = bundleFiles(text, source, values.out);
    // The repository's own docs and pages follow its own settings, not a site's copy.
    if (values.out === undefined && values.settings === undefined) {
      for (const [path, content] of repositoryFiles(text, await readPages(), await readRunbooks()))
        files.set(path, content);
    }
    for (const [path, content] of files) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
    console.log(`${[...files.keys()].join('\n')}\nwritten from ${from}`);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
