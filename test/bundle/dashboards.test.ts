import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { metricCatalogue } from '../../agent/docs/reference.js';
import { parseSettings } from '../../alerts/src/settings.js';
import type { RuleGroup } from '../../alerts/src/rule.js';
import { dashboardFiles } from '../../dashboards/src/generate.js';
import {
  dashboardQueries,
  DASHBOARD_DIR as DIR,
  interpolate,
  loadDashboards,
  type Dashboard,
} from '../helpers/dashboards.js';
import { ROOT } from '../helpers/fixtures.js';

const SETTINGS = parseSettings(
  readFileSync(join(ROOT, 'alerts/settings.yaml'), 'utf8'),
  'settings.yaml',
);
const dashboards = loadDashboards();
const files = dashboards.map(([f]) => f);
const rules = (
  parse(readFileSync(join(ROOT, 'alerts/inferwatch.rules.yml'), 'utf8')) as { groups: RuleGroup[] }
).groups.flatMap((g) => g.rules);
const alertNames = new Set(rules.flatMap((r) => ('alert' in r ? [r.alert] : [])));
const recorded = new Set(rules.flatMap((r) => ('record' in r ? [r.record] : [])));
const exported = new Set(
  metricCatalogue().flatMap(({ def }) =>
    def.type === 'histogram'
      ? [`${def.name}_bucket`, `${def.name}_count`, `${def.name}_sum`]
      : [def.name],
  ),
);

/**
 * What a series can be narrowed by. `source`: the labels of the agent's families it comes from
 * (declared labels plus `instance`, which every scrape adds), through any recording rules;
 * `kept`: the labels it still has: a family's own, or those a recording rule aggregates by (in
 * every `by (...)` of its expression) plus its static labels. A rule with no `by` keeps what it
 * reads.
 */
function seriesLabels(): (name: string) => {
  source: ReadonlySet<string>;
  kept: ReadonlySet<string>;
} {
  const families = new Map<string, Set<string>>();
  for (const { def } of metricCatalogue()) {
    const labels = new Set([...def.labelNames, 'instance', 'job']);
    for (const suffix of def.type === 'histogram' ? ['_bucket', '_count', '_sum'] : [''])
      families.set(`${def.name}${suffix}`, labels);
  }
  const records = new Map<string, string[]>();
  for (const rule of rules)
    if ('record' in rule)
      records.set(rule.record, [...(records.get(rule.record) ?? []), rule.expr]);
  const staticLabels = new Map<string, Set<string>>();
  for (const rule of rules)
    if ('record' in rule)
      for (const l of Object.keys(rule.labels ?? {}))
        staticLabels.set(rule.record, new Set([...(staticLabels.get(rule.record) ?? []), l]));
  const every = new Set(['instance', 'gpu', 'runtime', 'target', 'model', 'cluster']);
  const source = (name: string, seen = new Set<string>()): Set<string> => {
    const own = families.get(name);
    if (own) return own;
    const exprs = records.get(name);
    if (!exprs || seen.has(name)) return new Set(every);
    seen.add(name);
    const out = new Set(staticLabels.get(name) ?? []);
    for (const expr of exprs)
      for (const id of expr.match(/[a-zA-Z_][a-zA-Z0-9_:]*(?=\s*[{[)])/g) ?? [])
        if (families.has(id) || records.has(id)) for (const l of source(id, seen)) out.add(l);
    return out;
  };
  const kept = (name: string): Set<string> => {
    const own = families.get(name);
    if (own) return own;
    const exprs = records.get(name);
    if (!exprs) return new Set(every);
    const out = new Set(staticLabels.get(name) ?? []);
    for (const expr of exprs) {
      const clauses = [...expr.matchAll(/\bby \(([^)]*)\)/g)];
      if (clauses.length === 0 && !/^vector\(/.test(expr.trim()))
        for (const l of source(name)) out.add(l);
      for (const c of clauses) for (const l of (c[1] ?? '').split(',')) out.add(l.trim());
    }
    return out;
  };
  return (name) => ({ source: source(name), kept: kept(name) });
}

/** Grafana's global variables as values PromQL accepts; dashboard variables sit inside quotes. */
function promql(expr: string): string {
  return interpolate(expr, { range: '5m', rateInterval: '5m', interval: '5m', variables: {} });
}

function expressions(d: Dashboard): string[] {
  return dashboardQueries(d).map((q) => q.expr);
}

describe('the dashboards', () => {
  it('are what dashboards/src generates (run `npm run bundle`)', () => {
    const generated = dashboardFiles(SETTINGS);
    expect(files.sort()).toEqual([...generated.keys()].sort());
    for (const [file, text] of generated)
      expect(readFileSync(join(DIR, file), 'utf8'), file).toBe(text);
  });

  it('have stable uids, a title, a description and a Prometheus $datasource variable', () => {
    expect(dashboards.map(([, d]) => d.uid).sort()).toEqual([
      'inferwatch-cost',
      'inferwatch-fleet',
      'inferwatch-node',
      'inferwatch-probe',
      'inferwatch-runtime',
    ]);
    for (const [file, d] of dashboards) {
      expect(d.title, file).toMatch(/^inferwatch \/ /);
      expect(d.description, file).toMatch(/\S/);
      expect(
        d.templating.list.find((v) => v.name === 'datasource'),
        file,
      ).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const a of d.annotations.list) expect(a.datasource?.uid, file).toBe('${datasource}');
    }
  });

  it('give every panel a unit, a description, queries, and the $datasource', () => {
    for (const [file, d] of dashboards) {
      const panels = d.panels.filter((p) => p.type !== 'row');
      expect(panels.length, file).toBeGreaterThan(5);
      expect(new Set(panels.map((p) => p.title)).size, `${file}: panel titles are unique`).toBe(
        panels.length,
      );
      for (const p of panels) {
        const where = `${file}: ${p.title}`;
        expect(p.fieldConfig?.defaults?.unit, where).toMatch(/\S/);
        expect(p.description, where).toMatch(/\S/);
        expect(p.datasource?.uid, where).toBe('${datasource}');
        expect(p.targets?.length, where).toBeGreaterThan(0);
      }
    }
  });

  it('name every column of every table: no Time, no raw "Value #A"', () => {
    type Organize = {
      id: string;
      options: {
        excludeByName?: Record<string, boolean>;
        includeByName?: Record<string, boolean>;
        renameByName?: Record<string, string>;
      };
    };
    let tables = 0;
    for (const [file, d] of dashboards) {
      for (const p of d.panels.filter((x) => x.type === 'table')) {
        tables++;
        const where = `${file}: ${p.title}`;
        const targets = (p.targets ?? []) as unknown as { refId: string }[];
        const organize = (p as unknown as { transformations?: Organize[] }).transformations?.find(
          (t) => t.id === 'organize',
        );
        expect(organize, where).toBeDefined();
        const { excludeByName = {}, includeByName, renameByName = {} } = organize!.options;
        // includeByName keeps only what it names; otherwise Time must be excluded.
        if (includeByName) expect(includeByName['Time'], where).toBeUndefined();
        else expect(excludeByName['Time'], where).toBe(true);
        const values = targets.length === 1 ? ['Value'] : targets.map((t) => `Value #${t.refId}`);
        for (const v of values)
          expect(Boolean(renameByName[v]) || excludeByName[v] === true, `${where}: ${v}`).toBe(
            true,
          );
      }
    }
    expect(tables).toBeGreaterThan(3);
  });

  it('query only metrics the agent exports or a rule records, in PromQL that parses', () => {
    const read = new Set<string>();
    for (const [file, d] of dashboards) {
      for (const expr of expressions(d)) {
        const text = promql(expr);
        parser.parse(text).iterate({
          enter(node) {
            expect(node.type.isError, `${file}: ${expr}`).toBe(false);
            if (node.name === 'VectorSelector') {
              const id = node.node.getChild('Identifier');
              if (id) read.add(text.slice(id.from, id.to));
            }
          },
        });
      }
    }
    expect(read.size).toBeGreaterThan(40);
    for (const name of read) {
      // ALERTS is Prometheus's own series of alert states.
      expect(exported.has(name) || recorded.has(name) || name === 'ALERTS', name).toBe(true);
    }
  });

  it('filter every panel by every picker whose label its series come with', () => {
    const labelsOf = seriesLabels();
    const missing: string[] = [];
    let checked = 0;
    for (const [file, d] of dashboards) {
      const pickers = d.templating.list
        .filter((v) => v.type === 'query' && v.hide !== 2)
        .map((v) => v.name);
      for (const panel of d.panels)
        for (const target of panel.targets ?? []) {
          const text = promql(target.expr);
          parser.parse(text).iterate({
            enter(node) {
              if (node.name !== 'VectorSelector') return;
              const id = node.node.getChild('Identifier');
              if (!id) return;
              const name = text.slice(id.from, id.to);
              const selector = text.slice(node.from, node.to);
              const { source, kept } = labelsOf(name);
              for (const picker of pickers) {
                const filtered = new RegExp(`\\b${picker}=~?"\\$${picker}"`).test(selector);
                if (!source.has(picker)) continue;
                checked++;
                if (!filtered)
                  missing.push(`${file} "${panel.title}": ${selector} ignores $${picker}`);
                else if (!kept.has(picker))
                  missing.push(
                    `${file} "${panel.title}": ${name} has no ${picker} left to match $${picker}`,
                  );
              }
            },
          });
        }
    }
    expect(checked).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });

  it("place every panel of every area, each once (an area's panels are not dead code)", async () => {
    const layouts = readdirSync(join(ROOT, 'dashboards/src'))
      .map((f) => readFileSync(join(ROOT, 'dashboards/src', f), 'utf8'))
      .join('\n');
    const areas = readdirSync(join(ROOT, 'alerts/src/areas')).filter((f) =>
      f.endsWith('.panels.ts'),
    );
    expect(areas.length).toBeGreaterThanOrEqual(8);
    let placed = 0;
    for (const file of areas) {
      const module = (await import(
        `../../alerts/src/areas/${file.replace(/\.ts$/, '.js')}`
      )) as Record<string, Record<string, unknown>>;
      const [name, panels] = Object.entries(module).find(([key]) => key.endsWith('_PANELS')) ?? [];
      expect(name, file).toBe(`${file.split('.')[0]?.toUpperCase()}_PANELS`);
      for (const key of Object.keys(panels ?? {})) {
        const uses = layouts.split(`${name}.${key}(`).length - 1;
        expect(uses, `${name}.${key}`).toBe(1);
        placed++;
      }
    }
    expect(placed).toBe(
      dashboards.reduce((n, [, d]) => n + d.panels.filter((p) => p.type !== 'row').length, 0),
    );
  });

  it('link the runbook of the alerts their panels relate to, and only runbooks that exist', () => {
    // By default a runbook link opens the page a live agent serves: the dashboard finds one
    // when it loads, in a hidden variable whose value is its instance and text its scheme.
    const prefix = '${runbook_agent:text}://${runbook_agent}/runbooks/';
    for (const [file, d] of dashboards) {
      const links = d.panels.flatMap((p) => p.links ?? []);
      expect(links.length, file).toBeGreaterThan(0);
      for (const link of links) {
        const name = link.url.slice(prefix.length).replace(/\.md$/, '');
        expect(link.url.startsWith(prefix), link.url).toBe(true);
        expect(alertNames, link.url).toContain(name);
        expect(readdirSync(join(ROOT, 'runbooks')), link.url).toContain(`${name}.md`);
      }
      const agent = d.templating.list.find((v) => v.name === 'runbook_agent');
      expect(agent, file).toMatchObject({
        type: 'query',
        hide: 2,
        refresh: 1,
        query: 'query_result(topk(1, inferwatch_web_info{job="inferwatch"}))',
      });
      // Grafana writes the labels of a query_result line in the order Prometheus gives them.
      const regex = new RegExp((agent?.regex as string).slice(1, -1));
      for (const line of [
        'inferwatch_web_info{instance="n1:9500", job="inferwatch", scheme="https"} 1 1700000000000',
        'inferwatch_web_info{scheme="https",job="inferwatch",instance="n1:9500"} 1',
      ])
        expect(regex.exec(line)?.groups, line).toEqual({ value: 'n1:9500', text: 'https' });
    }
    // Every paging alert has a panel that links its runbook.
    const linked = new Set(
      dashboards.flatMap(([, d]) => d.panels.flatMap((p) => (p.links ?? []).map((l) => l.url))),
    );
    for (const rule of rules)
      if (
        'alert' in rule &&
        rule.labels.severity === 'critical' &&
        rule.alert !== 'LLMNodeHostDown'
      )
        expect(linked, rule.alert).toContain(`${prefix}${rule.alert}.md`);
  });

  it('mark firing alerts and runtime, model, driver and kernel changes on every graph', () => {
    for (const [file, d] of dashboards) {
      const exprs = d.annotations.list.map((a) => a.expr ?? '');
      expect(
        exprs.some((e) => e.startsWith('ALERTS{')),
        file,
      ).toBe(true);
      expect(
        exprs.some((e) => e.includes('inferwatch_llm_runtime_info') && e.includes('offset 5m')),
        file,
      ).toBe(true);
      expect(
        exprs.some((e) => e.includes('inferwatch_gpu_info') && e.includes('driver_version')),
        file,
      ).toBe(true);
      expect(
        exprs.some((e) => e.includes('inferwatch_host_info') && e.includes('kernel')),
        file,
      ).toBe(true);
    }
  });
});
