import { VERSION } from '../core/version.js';
import { htmlPage, PAGE_SECURITY } from './html.js';
import { RUNBOOKS } from './runbook-pages.js';

/** A reply to a request under /runbooks. */
export interface RunbookAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

const HTML = 'text/html; charset=utf-8';

const PAGE_HEADERS = { ...PAGE_SECURITY, 'Cache-Control': 'public, max-age=300' };

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
pre{background:#f6f8fa;padding:.75rem;overflow:auto}code{font-size:90%}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left}
nav,footer{font-size:90%;color:#59636e}`;

function page(title: string, body: string): string {
  return htmlPage(
    title,
    STYLE,
    `<nav><a href="./">All runbooks</a></nav>
<main>
${body}</main>
<footer>Served by inferwatch ${VERSION}; the same pages as runbooks/ in its bundle.</footer>
`,
  );
}

function indexPage(): string {
  const rows = [...RUNBOOKS]
    .map(([alert, { summary }]) => `<li><a href="${alert}.md">${alert}</a>: ${summary}</li>`)
    .join('\n');
  return page('inferwatch runbooks', `<h1>inferwatch runbooks</h1>\n<ul>\n${rows}\n</ul>\n`);
}

/**
 * /runbooks/ lists every alert's runbook; /runbooks/<Alert>.md is one, as HTML. The links are
 * relative, so the pages work behind a proxy that serves the agent under a path.
 */
export function runbookAnswer(path: string): RunbookAnswer {
  if (path === '/runbooks')
    return {
      status: 301,
      contentType: 'text/plain; charset=utf-8',
      body: 'see runbooks/\n',
      headers: { Location: 'runbooks/' },
    };
  const name = path.slice('/runbooks/'.length);
  if (name === '')
    return { status: 200, contentType: HTML, body: indexPage(), headers: PAGE_HEADERS };
  const runbook = name.endsWith('.md') ? RUNBOOKS.get(name.slice(0, -3)) : undefined;
  if (!runbook)
    return {
      status: 404,
      contentType: 'text/plain; charset=utf-8',
      body: 'no such runbook; the list is at /runbooks/\n',
      headers: {},
    };
  return {
    status: 200,
    contentType: HTML,
    body: page(`${name.slice(0, -3)} · inferwatch runbook`, runbook.html),
    headers: PAGE_HEADERS,
  };
}
