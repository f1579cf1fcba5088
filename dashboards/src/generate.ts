import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { parseSettings } from '../../alerts/src/generate.js';
import type { RuleSettings } from '../../alerts/src/settings.js';
import type { DashboardSettings } from './common.js';
import { cost } from './cost.js';
import { fleet } from './fleet.js';
import { node } from './node.js';
import { probe } from './probe.js';
import { runtime } from './runtime.js';

/** The repository root, from the built file (dist/dashboards/src/generate.js). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const DASHBOARDS: readonly [string, (s: DashboardSettings) => DashboardBuilder][] = [
  ['fleet.json', fleet],
  ['node.json', node],
  ['runtime.json', runtime],
  ['probe.json', probe],
  ['cost.json', cost],
];

/** Each dashboard's file name and JSON text, as committed under dashboards/. */
export function dashboardFiles(settings: RuleSettings): Map<string, string> {
  const s: DashboardSettings = {
    runbookBaseUrl: settings.runbook_base_url,
    ttftSeconds: settings.slo.ttft_seconds,
  };
  return new Map(
    DASHBOARDS.map(([file, build]) => [file, `${JSON.stringify(build(s).build(), null, 2)}\n`]),
  );
}

async function main(): Promise<number> {
  const from = join(ROOT, 'alerts/settings.yaml');
  try {
    const files = dashboardFiles(parseSettings(await readFile(from, 'utf8'), from));
    for (const [file, text] of files) await writeFile(join(ROOT, 'dashboards', file), text);
    console.log(`dashboards/{${[...files.keys()].join(',')}} written`);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
