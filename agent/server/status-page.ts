import { scrub } from '../core/secrets.js';
import { escapeHtml as escape, htmlPage, PAGE_SECURITY } from './html.js';

/** A source as the status page shows it: its state, what it says, and its last good read. */
export interface SourceRow {
  readonly name: string;
  readonly status: {
    readonly state: string;
    readonly detail: string;
    readonly lines?: readonly string[];
    readonly todo?: string;
  };
  /** When it last gave good values, in seconds since the epoch; absent: never yet. */
  readonly lastGoodEpochS?: number;
}

export const STATUS_PAGE_HEADERS = { ...PAGE_SECURITY, 'Cache-Control': 'no-store' };

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1f2328}
h1{font-size:1.4rem;margin:0}h1 small{font-weight:normal;color:#59636e}
nav a{margin-right:1rem}table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{border-bottom:1px solid #d0d7de;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.state{font-weight:600;border-radius:1rem;padding:.05rem .55rem;white-space:nowrap}
.ok{background:#dafbe1;color:#116329}.starting{background:#fff8c5;color:#7d4e00}
.failing{background:#ffebe9;color:#a40e26}.missing{background:#eaeef2;color:#424a53}
.disabled{background:#eaeef2;color:#59636e}ul{margin:.3rem 0 0;padding-left:1.2rem}
.todo{margin:.3rem 0 0;color:#a40e26}.age{white-space:nowrap;color:#59636e}`;

/** A time since, as a person reads it. */
function age(seconds: number): string {
  if (seconds < 1) return 'just now';
  if (seconds < 120) return `${Math.round(seconds)} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function row(source: SourceRow, nowS: number): string {
  const { state, detail, lines = [], todo } = source.status;
  const last =
    source.lastGoodEpochS === undefined ? 'never' : age(Math.max(0, nowS - source.lastGoodEpochS));
  const items = lines.length
    ? `<ul>${lines.map((l) => `<li>${escape(scrub(l))}</li>`).join('')}</ul>`
    : '';
  const advice = todo ? `<p class="todo">What to do: ${escape(scrub(todo))}</p>` : '';
  return `<tr><td>${escape(source.name)}</td><td><span class="state ${escape(state)}">${escape(state)}</span></td><td class="age">${last}</td><td>${escape(scrub(detail))}${items}${advice}</td></tr>`;
}

/**
 * The page at /: the agent at a glance, for a person on the node. Each source with its state,
 * the age of its last good read and what it says, the GPUs, runtimes, models and probe verdicts
 * among them (each source's own lines), and what to do where one fails. Everything a source
 * says passes the secret scrubber; the page asks for nothing beyond itself.
 */
export function statusPage(
  version: string,
  host: string,
  sources: readonly SourceRow[],
  nowMs: number,
): string {
  const count = (state: string) => sources.filter((s) => s.status.state === state).length;
  const summary = ['ok', 'starting', 'failing', 'missing', 'disabled']
    .map((state) => [state, count(state)] as const)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const title = `inferwatch on ${host}`;
  return htmlPage(
    title,
    STYLE,
    `<header><h1>${escape(title)} <small>${escape(version)}</small></h1>
<p>Sources: ${summary || 'none'}.</p>
<nav><a href="metrics">/metrics</a><a href="runbooks/">/runbooks/</a><a href="healthz">/healthz</a><span>/probe?target=NAME&amp;module=latency|canary: the probe's last result, blackbox_exporter style</span></nav>
</header>
<main>
<table>
<thead><tr><th>source</th><th>state</th><th>last good read</th><th>what it says</th></tr></thead>
<tbody>
${sources.map((s) => row(s, nowMs / 1000)).join('\n')}
</tbody>
</table>
</main>
`,
  );
}
