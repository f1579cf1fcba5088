import { ADAPTERS } from '../collectors/runtimes/adapters/index.js';
import type { RuntimeAdapter } from '../collectors/runtimes/adapter.js';
import { CONCEPTS, CONCEPT_TITLES } from '../collectors/runtimes/reading.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');

function pathText([path, api]: RuntimeAdapter['generation']['paths'][number]): string {
  const shown =
    typeof path === 'string' ? path : path.source.replace(/^\^|\$$/g, '').replace(/\\\//g, '/');
  return `\`${shown}\`${api ? '' : ' (timed only)'}`;
}

/** The runtime tables of docs/runtimes.md, from the adapters: each runtime's own declaration is the truth. */
export function runtimeReference(): string {
  const runtimes = [
    '| runtime | `kind` | default ports | probe and evaluation ask in | generation paths the proxy measures |',
    '|---|---|---|---|---|',
    ...ADAPTERS.map((a: RuntimeAdapter) => {
      const g = a.generation;
      const probe = g.probeApi
        ? `\`${g.probeApi}\`${g.queueFigures ? '' : ' (no queue figures: asked only while the model is loaded)'}`
        : 'not probed (no generations where the agent reads it)';
      return `| ${a.title} | \`${a.kind}\` | ${a.defaultPorts.join(', ')} | ${probe} | ${cell(g.paths.map(pathText).join(', '))} |`;
    }),
  ];
  const coverage = [
    `| concept (family) | ${ADAPTERS.map((a) => a.title).join(' | ')} |`,
    `|---|${ADAPTERS.map(() => '---').join('|')}|`,
    ...CONCEPTS.map(
      (c) =>
        `| ${CONCEPT_TITLES[c]} | ${ADAPTERS.map((a: RuntimeAdapter) => cell(a.coverage[c] ?? '—')).join(' | ')} |`,
    ),
  ];
  return [...runtimes, '', ...coverage].join('\n');
}

/** The example in docs/runtimes.md of scraping each runtime's own metrics beside the agent. */
export function runtimeScrapeExample(): string {
  const jobs = ADAPTERS.flatMap((a: RuntimeAdapter) => {
    if (!a.ownMetrics) return [];
    const { path, switchedOnBy } = a.ownMetrics;
    const name = `  - job_name: ${a.kind}`;
    return [
      switchedOnBy ? `${name.padEnd(58)}# needs ${switchedOnBy}` : name,
      ...(path === '/metrics' ? [] : [`    metrics_path: ${path}`]),
      `    static_configs: [{ targets: ['gpu-node-1:${a.defaultPorts[0]}'] }]`,
    ];
  });
  return ['```yaml', 'scrape_configs:', ...jobs, '```'].join('\n');
}
