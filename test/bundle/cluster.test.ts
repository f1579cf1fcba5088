import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { keepLabel, narrowed } from '../../alerts/src/cluster.js';
import type { RuleGroup } from '../../alerts/src/rule.js';
import { ROOT } from '../helpers/fixtures.js';
import { requireTool } from '../helpers/tools.js';

const ALERTS = join(ROOT, 'alerts');

describe('keepLabel', () => {
  it.each([
    ['sum by (model) (rate(x[5m]))', 'sum by (cluster, model) (rate(x[5m]))'],
    ['sum(rate(x[5m])) by ()', 'sum(rate(x[5m])) by (cluster)'],
    ['count(x) or vector(0)', 'count by (cluster) (x) or vector(0)'],
    ['a / on (instance) group_left (gpu) b', 'a / on (cluster, instance) group_left (gpu) b'],
    ['a and on () b', 'a and on (cluster) b'],
    ['sum without (le) (x) / ignoring (le) y', 'sum without (le) (x) / ignoring (le) y'],
    ['up{job="x"} == 0 or absent(up{job="x"})', 'up{job="x"} == 0 or absent(up{job="x"})'],
  ])('%s', (expr, expected) => expect(keepLabel(expr, 'cluster')).toBe(expected));
});

describe('narrowed', () => {
  it.each([
    ['rate(x[5m])', 'rate(x{k8s_cluster="$cluster"}[5m])'],
    ['x{a="b"} / y{}', 'x{k8s_cluster="$cluster", a="b"} / y{k8s_cluster="$cluster"}'],
    [
      'sum by (le) (rate(x_bucket{instance="$instance"}[$__rate_interval]))',
      'sum by (le) (rate(x_bucket{k8s_cluster="$cluster", instance="$instance"}[$__rate_interval]))',
    ],
  ])('%s', (expr, expected) => expect(narrowed(expr, 'k8s_cluster="$cluster"')).toBe(expected));
});

/** The bundle generated from the shipped settings with a cluster label set. */
function clusteredBundle(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'inferwatch-cluster-'));
  const settings = readFileSync(join(ALERTS, 'settings.yaml'), 'utf8').replace(
    "cluster_label: ''",
    `cluster_label: ${label}`,
  );
  writeFileSync(join(dir, 'settings.yaml'), settings);
  execFileSync(process.execPath, [
    join(ROOT, 'dist/alerts/src/generate.js'),
    '--settings',
    join(dir, 'settings.yaml'),
    '--out',
    dir,
  ]);
  return dir;
}

/** Every aggregation keeps `label` (by it, or not without it), and every `on` names it. */
function dropsOf(expr: string, label: string): string[] {
  const drops: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      const text = expr.slice(node.from, node.to);
      if (node.name === 'AggregateExpr') {
        const modifier = node.node.getChild('AggregateModifier');
        const grouping = modifier?.getChild('GroupingLabels');
        const names = grouping ? expr.slice(grouping.from, grouping.to) : '';
        const keeps = modifier?.getChild('Without')
          ? !names.includes(label)
          : new RegExp(`\\b${label}\\b`).test(names);
        if (!keeps) drops.push(text);
      }
      if (node.name === 'MatchingModifierClause' && node.node.getChild('On')) {
        const grouping = node.node.getChild('GroupingLabels');
        if (!grouping || !new RegExp(`\\b${label}\\b`).test(expr.slice(grouping.from, grouping.to)))
          drops.push(text);
      }
    },
  });
  return drops;
}

describe('a cluster label (cluster_label in the settings)', () => {
  it('is kept by every aggregation and join of every rule, and the rules still pass their promtool tests', (ctx) => {
    const dir = clusteredBundle('cluster');
    const rulesFile = join(dir, 'inferwatch.rules.yml');
    const groups = (parse(readFileSync(rulesFile, 'utf8')) as { groups: RuleGroup[] }).groups;
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(50);
    for (const rule of rules) expect(dropsOf(rule.expr, 'cluster'), rule.expr).toEqual([]);
    // The shipped rules do drop it: the check above can fail.
    const shipped = (
      parse(readFileSync(join(ALERTS, 'inferwatch.rules.yml'), 'utf8')) as { groups: RuleGroup[] }
    ).groups.flatMap((g) => g.rules);
    expect(shipped.some((r) => dropsOf(r.expr, 'cluster').length > 0)).toBe(true);

    if (!requireTool('promtool', 'prometheus', () => ctx.skip())) return;
    execFileSync('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', rulesFile]);
    // The same promtool tests, on series with no cluster label: one cluster is still one.
    const tests = readdirSync(join(ALERTS, 'tests')).filter((f) => f.endsWith('.test.yml'));
    for (const file of tests)
      writeFileSync(
        join(dir, file),
        readFileSync(join(ALERTS, 'tests', file), 'utf8').replace(
          'rule_files: [../inferwatch.rules.yml]',
          'rule_files: [inferwatch.rules.yml]',
        ),
      );
    const run = spawnSync('promtool', ['test', 'rules', ...tests.map((f) => join(dir, f))], {
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).not.toContain('FAILED');
    expect(run.status).toBe(0);
    // promtool evaluates every test's series over hours of rule time: about 20 s alone, more
    // while the other bundle test runs its own.
  }, 120_000);

  it('gives every dashboard a cluster picker, and narrows every query, variable and annotation to it', () => {
    const dir = clusteredBundle('k8s_cluster');
    const files = readdirSync(join(dir, 'dashboards')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(5);
    for (const file of files) {
      const d = JSON.parse(readFileSync(join(dir, 'dashboards', file), 'utf8'));
      const picker = d.templating.list[1];
      expect(picker).toMatchObject({
        name: 'cluster',
        query: 'label_values(inferwatch_build_info, k8s_cluster)',
      });
      const exprs: string[] = [
        ...d.panels.flatMap((p: { targets?: { expr: string }[] }) =>
          (p.targets ?? []).map((t) => t.expr),
        ),
        ...d.annotations.list.flatMap((a: { expr?: string }) => (a.expr ? [a.expr] : [])),
      ];
      expect(exprs.length).toBeGreaterThan(3);
      for (const expr of exprs) {
        parser.parse(expr).iterate({
          enter(node) {
            if (node.name !== 'VectorSelector') return;
            expect(expr.slice(node.from, node.to), `${file}: ${expr}`).toContain(
              'k8s_cluster="$cluster"',
            );
          },
        });
      }
      for (const v of d.templating.list.slice(2))
        if (v.type === 'query')
          expect(v.query, `${file}: ${v.name}`).toContain('k8s_cluster="$cluster"');
    }
  });
});
