import { narrowed } from '../../alerts/src/cluster.js';
import { labelVariable } from './common.js';

import type { Json } from './runbook-agent.js';

/** `label_values(SELECTOR, label)` and `query_result(EXPR)` narrowed inside; PromQL as such. */
function narrowedQuery(query: string, matcher: string): string {
  const labelValues = /^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/s.exec(query);
  if (labelValues)
    return `label_values(${narrowed(labelValues[1] ?? '', matcher)}, ${labelValues[2]})`;
  const result = /^query_result\((.*)\)$/s.exec(query);
  if (result) return `query_result(${narrowed(result[1] ?? '', matcher)})`;
  return narrowed(query, matcher);
}

function panels(list: unknown): Json[] {
  if (!Array.isArray(list)) return [];
  return (list as Json[]).flatMap((p) => [p, ...panels(p.panels)]);
}

/**
 * A dashboard for one Prometheus over several clusters: a cluster picker after the data source,
 * and every query, variable and annotation narrowed to the cluster picked. `label` is the
 * settings' cluster label; the picker reads it from the agents' build info.
 */
export function withClusterPicker(dashboard: Json, label: string): Json {
  const matcher = `${label}="$cluster"`;
  for (const panel of panels(dashboard.panels))
    for (const target of (panel.targets as Json[] | undefined) ?? [])
      if (typeof target.expr === 'string') target.expr = narrowed(target.expr, matcher);
  const templating = dashboard.templating as { list: Json[] } | undefined;
  for (const variable of templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    for (const key of ['query', 'definition'] as const)
      if (typeof variable[key] === 'string') variable[key] = narrowedQuery(variable[key], matcher);
  }
  const annotations = dashboard.annotations as { list: Json[] } | undefined;
  for (const annotation of annotations?.list ?? [])
    if (typeof annotation.expr === 'string') annotation.expr = narrowed(annotation.expr, matcher);
  const picker = labelVariable(
    'cluster',
    'Cluster',
    `label_values(inferwatch_build_info, ${label})`,
  ).build() as unknown as Json;
  templating?.list.splice(1, 0, picker);
  return dashboard;
}
