import { VariableHide, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { RUNBOOK_AGENT_VARIABLE, runbookAgentQuery } from '../../alerts/src/runbook-links.js';
import type { RuleSettings } from '../../alerts/src/settings.js';
import { labelVariable } from './common.js';

export type Json = Record<string, unknown>;

function linksAgent(dashboard: Json): boolean {
  return JSON.stringify(dashboard.panels ?? []).includes(`\${${RUNBOOK_AGENT_VARIABLE}`);
}

/**
 * A dashboard whose panels link runbooks on the agents gets the hidden variable those links
 * read: a live agent, found when the dashboard loads (the same agent for every link).
 */
export function withRunbookAgent(dashboard: Json, settings: RuleSettings): Json {
  if (!linksAgent(dashboard)) return dashboard;
  const { query, regex } = runbookAgentQuery(settings);
  const variable = labelVariable(RUNBOOK_AGENT_VARIABLE, 'Runbooks from', query)
    .regex(regex)
    .hide(VariableHide.HideVariable)
    .refresh(VariableRefresh.OnDashboardLoad)
    .build() as unknown as Json;
  (dashboard.templating as { list: Json[] }).list.push(variable);
  return dashboard;
}
