import { scrub } from '../core/secrets.js';
import { withTodo } from '../core/state-log.js';

/** A collector's name and state, as the landing page lists them. */
type NamedStatus = {
  readonly name: string;
  readonly status: { readonly state: string; readonly detail: string; readonly todo?: string };
};

/** The page at /: the endpoints, and the state of every source (details scrubbed of secrets). */
export function landingPage(version: string, statuses: readonly NamedStatus[]): string {
  const rows = statuses
    .map(
      ({ name, status }) =>
        `<tr><td>${escape(name)}</td><td>${escape(status.state)}</td><td>${escape(scrub(withTodo(status.detail, status.todo)))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>inferwatch</title></head>
<body>
<h1>inferwatch ${escape(version)}</h1>
<p>Observability agent for LLM inference nodes.</p>
<ul>
<li><a href="/metrics">/metrics</a>: Prometheus exposition</li>
<li><a href="/healthz">/healthz</a>: liveness</li>
<li><a href="runbooks/">/runbooks/</a>: what to do about each alert, the pages its runbook links open</li>
<li>/probe?target=NAME&amp;module=latency|canary: the probe's last result, blackbox_exporter style</li>
</ul>
<h2>Sources</h2>
<table>
<tr><th>collector</th><th>state</th><th>detail</th></tr>
${rows}
</table>
</body></html>
`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
