import { parse, parseAllDocuments, stringify } from 'yaml';
import { z } from 'zod';
import { VERSION } from '../../../agent/core/version.js';
import { render, type RenderContext } from './template.js';
import { TEMPLATES } from './templates.js';
import { ValuesSchema, valuesYaml, type ChartValues } from './values.js';

export const CHART_DIR = 'deploy/helm/inferwatch';
/** The release the plain manifests stand for. */
export const PLAIN_RELEASE = { Name: 'inferwatch', Namespace: 'inferwatch' } as const;

export interface RuleGroupText {
  readonly name: string;
  /** The group as one YAML list item (`- name: ...`), as the rule file holds it. */
  readonly yaml: string;
}

/**
 * The chart's files, by path within the chart: Chart.yaml, values.yaml and its schema, the
 * templates, and the rules and dashboards as files the templates read.
 */
export function chartFiles(
  groups: readonly RuleGroupText[],
  dashboards: ReadonlyMap<string, string>,
): Map<string, string> {
  const files = new Map<string, string>();
  files.set(
    'Chart.yaml',
    stringify({
      apiVersion: 'v2',
      name: 'inferwatch',
      description:
        'The inferwatch agent on every GPU node (a DaemonSet), its ServiceMonitor, alert and recording rules, and Grafana dashboards.',
      type: 'application',
      version: VERSION,
      appVersion: VERSION,
      kubeVersion: '>=1.25.0-0',
    }),
  );
  files.set('values.yaml', valuesYaml(groups.map((g) => g.name)));
  files.set(
    'values.schema.json',
    `${JSON.stringify(z.toJSONSchema(ValuesSchema, { target: 'draft-7' }), null, 2)}\n`,
  );
  for (const [name, text] of Object.entries(TEMPLATES)) files.set(`templates/${name}`, text);
  for (const g of groups) files.set(`files/rules/${g.name}.yml`, g.yaml);
  for (const [file, json] of dashboards) files.set(`files/dashboards/${file}`, json);
  return files;
}

/** Values as Helm merges them: maps key by key, anything else replaced whole. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (isMap(base) && isMap(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeValues(base[k], v);
    return out;
  }
  return over === undefined ? base : over;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The chart's defaults with a site's overrides, checked against the chart's schema. */
export function chartValues(files: ReadonlyMap<string, string>, overrides: unknown): ChartValues {
  const merged = mergeValues(parse(files.get('values.yaml') ?? ''), overrides ?? {});
  const result = ValuesSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`kubernetes.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** The chart rendered as `helm template` renders it: every object, in template order. */
export function renderChart(
  files: ReadonlyMap<string, string>,
  values: ChartValues,
  release: { readonly Name: string; readonly Namespace: string } = PLAIN_RELEASE,
): Record<string, unknown>[] {
  const chartFilesOnly = new Map([...files].filter(([path]) => path.startsWith('files/')));
  const ctx: RenderContext = {
    Values: values,
    Release: release,
    Chart: { Name: 'inferwatch', Version: VERSION, AppVersion: VERSION },
    files: chartFilesOnly,
  };
  const objects: Record<string, unknown>[] = [];
  for (const [path, template] of files) {
    if (!path.startsWith('templates/')) continue;
    for (const doc of parseAllDocuments(render(template, ctx))) {
      if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0]?.message ?? 'bad YAML'}`);
      const object = doc.toJS() as Record<string, unknown> | null;
      if (object) objects.push(object);
    }
  }
  return objects;
}
