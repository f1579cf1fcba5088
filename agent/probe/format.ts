import { DIALECTS } from '../shared/dialect.js';
import type { ProbeResult } from './types.js';

/** One run, for a person at a terminal. No prompt and no answer: lengths and hashes only. */
export function formatResult(r: ProbeResult): string {
  const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(3)} s`);
  const head = `${r.target} (${r.url}): ${r.runtime}, model ${r.model || '-'}, ${r.module} probe via ${DIALECTS[r.api].path}`;
  const verdict = r.outcome === 'success' ? 'success' : `${r.outcome}: ${r.reason} (${r.detail})`;
  const lines = [head, `  result               ${verdict}`];
  const m = r.measured;
  if (r.httpStatus !== undefined) lines.push(`  HTTP status          ${r.httpStatus}`);
  if (m) {
    lines.push(
      `  first event          ${s(m.firstEventMs)}`,
      `  time to first token  ${s(m.ttftMs)}`,
      `  last token           ${s(m.e2eMs)}`,
      `  time per token       ${s(m.tpotMs)}`,
      `  largest token gap    ${s(m.maxGapMs)}`,
      `  output tokens        ${m.outputTokens ?? '-'}${m.tokenSource ? ` (${m.tokenSource === 'estimate' ? 'estimated from events' : m.tokenSource === 'usage' ? "server's usage" : "runtime's own count"})` : ''}`,
      `  input tokens         ${m.inputTokens ?? '-'}`,
      `  finish               ${m.finish ?? '-'}`,
    );
    const server = m.server;
    if (server?.promptS !== undefined || server?.decodeS !== undefined)
      lines.push(
        `  server timings       load ${server.loadS?.toFixed(3) ?? '-'} s, prompt ${server.promptS?.toFixed(3) ?? '-'} s, decode ${server.decodeS?.toFixed(3) ?? '-'} s`,
      );
  }
  if (r.canary)
    lines.push(
      `  canary               ${r.canary.name}: ${r.canary.match ? 'right answer' : 'WRONG answer'} (${r.canary.answerChars} characters; prompt sha256 ${r.canary.promptSha256.slice(0, 16)})`,
    );
  lines.push(`  duration             ${r.durationS.toFixed(3)} s of ${r.timeoutS} s allowed`);
  return `${lines.join('\n')}\n`;
}
