/**
 * `npm run bundle`: the whole Prometheus and Grafana bundle from one settings file. The rule
 * file, the dashboards and the Kubernetes manifests (which embed both) all take the same
 * runbook base URL, job names and thresholds.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dashboardFiles } from '../../dashboards/src/generate.js';
import { manifestsFrom, manifestsText } from '../../deploy/kubernetes/src/manifests.js';
import { ruleGroups, rulesText } from './rules.js';
import { parseSettings } from './settings.js';

/** The repository root, from the built file (dist/alerts/src/generate.js). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_SETTINGS = join(ROOT, 'alerts/settings.yaml');
const USAGE = 'usage: npm run bundle [-- --settings FILE] [--out DIR|FILE.yml]';

/** Where each artifact goes: the repository's own places, or one folder of the user's. */
function places(out: string | undefined) {
  if (out === undefined)
    return {
      rules: join(ROOT, 'alerts/inferwatch.rules.yml'),
      dashboards: join(ROOT, 'dashboards'),
      manifests: join(ROOT, 'deploy/kubernetes/inferwatch.yaml'),
    };
  return {
    rules: join(out, 'inferwatch.rules.yml'),
    dashboards: join(out, 'dashboards'),
    manifests: join(out, 'kubernetes/inferwatch.yaml'),
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
  files.set(to.manifests, manifestsText(manifestsFrom(ruleGroups(settings), dashboards)));
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
