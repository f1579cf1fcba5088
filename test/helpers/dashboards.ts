import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

export interface Target {
  expr: string;
}
export interface Panel {
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  links?: { title: string; url: string }[];
}
export interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  panels: Panel[];
  templating: {
    list: { type: string; name: string; query: unknown; regex?: string; hide?: number }[];
  };
  annotations: { list: { name?: string; expr?: string; datasource?: { uid: string } }[] };
}

export const DASHBOARD_DIR = join(ROOT, 'dashboards');

/** The committed dashboards, by file name. */
export function loadDashboards(): (readonly [string, Dashboard])[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map(
      (f) => [f, JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as Dashboard] as const,
    );
}

/** One PromQL expression of a dashboard, and where it sits. */
export interface DashboardQuery {
  readonly where: string;
  readonly expr: string;
}

/** Every PromQL expression of a dashboard: panel targets, annotations, variable queries. */
export function dashboardQueries(d: Dashboard): DashboardQuery[] {
  const fromVariables = d.templating.list.flatMap((v) => {
    if (v.type !== 'query' || typeof v.query !== 'string') return [];
    // label_values(SELECTOR, label) and query_result(EXPR) are Grafana's; inside, PromQL.
    const inner = /^(?:label_values\((.+),\s*\w+\)|query_result\((.+)\))$/s.exec(v.query);
    return [{ where: `variable ${v.name}`, expr: inner ? (inner[1] ?? inner[2] ?? '') : v.query }];
  });
  return [
    ...d.panels.flatMap((p) =>
      (p.targets ?? []).map((t, i) => ({
        where: `panel "${p.title}" query ${i + 1}`,
        expr: t.expr,
      })),
    ),
    ...d.annotations.list.flatMap((a) =>
      a.expr ? [{ where: `annotation "${a.name ?? ''}"`, expr: a.expr }] : [],
    ),
    ...fromVariables,
  ];
}

export interface GrafanaValues {
  /** $__range (and $__range_s), $__rate_interval and $__interval, as PromQL durations. */
  readonly range: string;
  readonly rateInterval: string;
  readonly interval: string;
  /** Dashboard variables ($instance, $gpu, ...) by name. */
  readonly variables: Readonly<Record<string, string>>;
}

const MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The query Grafana sends: its global variables and the dashboard's replaced by values. */
export function interpolate(expr: string, values: GrafanaValues): string {
  const ms = /^(\d+)(ms|s|m|h|d)$/.exec(values.interval);
  if (!ms) throw new Error(`${values.interval}: not a duration`);
  const range = /^(\d+)(ms|s|m|h|d)$/.exec(values.range);
  if (!range) throw new Error(`${values.range}: not a duration`);
  return expr
    .replaceAll('$__interval_ms', String(Number(ms[1]) * (MS[ms[2] as string] ?? 0)))
    .replaceAll('$__range_s', String((Number(range[1]) * (MS[range[2] as string] ?? 0)) / 1000))
    .replaceAll('$__rate_interval', values.rateInterval)
    .replaceAll('$__range', values.range)
    .replaceAll('$__interval', values.interval)
    .replace(/\$(\w+)/g, (whole, name: string) => values.variables[name] ?? whole);
}
