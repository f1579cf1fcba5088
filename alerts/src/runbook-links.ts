import { self } from './metrics.js';
import type { AlertDef } from './rule.js';
import type { RuleSettings } from './settings.js';

/**
 * Where an alert's runbook is: `<runbook_base_url>/<Alert>.md` when the site hosts them, and by
 * default the pages every agent serves at /runbooks/, so a link resolves with nothing to host.
 */
export function hostedRunbook(s: RuleSettings, alert: AlertDef): string | undefined {
  const base = s.runbook_base_url.replace(/\/+$/, '');
  return base ? `${base}/${alert.name}.md` : undefined;
}

/**
 * An alert's runbook_url annotation. Hosted, the plain link. Served by the agents, a template
 * Prometheus fills when the alert fires: it queries for a live agent (one scraped in the last
 * scrape, so its inferwatch_web_info is fresh), preferring the agent the alert names, then one
 * in the alert's cluster, then any; with none alive, Prometheus's own alerts page.
 */
export function ruleRunbookUrl(s: RuleSettings, alert: AlertDef): string {
  const hosted = hostedRunbook(s, alert);
  if (hosted) return hosted;
  const info = (matchers: string) => `${self.WEB_INFO.name}{job=%q${matchers}}`;
  const candidates = [`3 * ${info(',instance=%q')}`];
  const args = [`"${s.jobs.agent}"`, '$labels.instance'];
  if (s.cluster_label) {
    candidates.push(`2 * ${info(`,${s.cluster_label}=%q`)}`);
    args.push(`"${s.jobs.agent}"`, `(index $labels "${s.cluster_label}")`);
  }
  candidates.push(info(''));
  args.push(`"${s.jobs.agent}"`);
  const query = `printf "topk(1, ${candidates.join(' or ')})" ${args.join(' ')}`;
  return (
    `{{ with query (${query}) }}{{ with first . }}` +
    `{{ .Labels.scheme }}://{{ .Labels.instance }}/runbooks/${alert.name}.md{{ end }}` +
    `{{ else }}{{ $externalURL }}/alerts{{ end }}`
  );
}

/** The dashboards' hidden variable naming a live agent whose /runbooks/ the panels link. */
export const RUNBOOK_AGENT_VARIABLE = 'runbook_agent';

/** A panel's link to an alert's runbook: hosted, or on the agent the dashboard found. */
export function panelRunbookUrl(s: RuleSettings, alert: AlertDef): string {
  return (
    hostedRunbook(s, alert) ??
    `\${${RUNBOOK_AGENT_VARIABLE}:text}://\${${RUNBOOK_AGENT_VARIABLE}}/runbooks/${alert.name}.md`
  );
}

/**
 * The query behind that variable: a live agent, read by a regex into the variable's value (its
 * instance) and text (its scheme), in whatever order Grafana writes the labels.
 */
export function runbookAgentQuery(s: RuleSettings): { query: string; regex: string } {
  return {
    query: `query_result(topk(1, ${self.WEB_INFO.name}{job="${s.jobs.agent}"}))`,
    regex: '/^(?=.*instance="(?<value>[^"]+)")(?=.*scheme="(?<text>[^"]+)")/',
  };
}
