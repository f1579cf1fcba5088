import { parse } from 'yaml';
import type { IncidentInfo } from './sim/incidents.js';
import type { Injection } from './sim/node.js';

const SECONDS: Readonly<Record<string, number>> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

/** A Prometheus duration (1h30m, 500ms) in seconds. */
export function seconds(duration: string): number {
  return [...duration.matchAll(/(\d+)(ms|[smhdw])/g)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * (SECONDS[unit ?? 's'] ?? 0),
    0,
  );
}

function spoken(total: number): string {
  if (total % 3600 === 0) return `${total / 3600} h`;
  if (total % 60 === 0) return `${total / 60} min`;
  return `${total} s`;
}

/** How long an alert can keep firing once its cause is gone: its look-back, then keep_firing_for. */
export interface Hold {
  readonly window: number;
  readonly keep: number;
}

/** `expr` split at its top-level `op`s (outside parentheses and braces). */
function topLevel(expr: string, op: 'and' | 'or' | 'unless'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const word = new RegExp(`^\\s${op}\\s`);
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (depth === 0 && word.test(expr.slice(i, i + op.length + 2))) {
      parts.push(expr.slice(start, i));
      start = i + op.length + 1;
    }
  }
  return [...parts, expr.slice(start)];
}

/**
 * How far back an expression looks once its cause is gone, in seconds: its range selectors and
 * the windows of the recorded series it reads; `or` holds as long as its longest side, `and`
 * as its shortest (a multi-window burn rate ends with its short window), `unless` not at all.
 */
function lookBack(
  expr: string,
  records: ReadonlyMap<string, string>,
  seen = new Set<string>(),
): number {
  const ors = topLevel(expr, 'or');
  if (ors.length > 1) return Math.max(...ors.map((e) => lookBack(e, records, seen)));
  // `past unless now` (a model served in the last hour, unless served now) ends with its cause.
  if (topLevel(expr, 'unless').length > 1) return 0;
  const ands = topLevel(expr, 'and');
  if (ands.length > 1) return Math.min(...ands.map((e) => lookBack(e, records, seen)));
  const ranges = [...expr.matchAll(/\[((?:\d+(?:ms|[smhdw]))+)(?::[^\]]*)?\]/g)].map((m) =>
    seconds(m[1] ?? ''),
  );
  const recorded = [...records]
    .filter(([name]) => !seen.has(name) && expr.includes(name))
    .map(([name, body]) => lookBack(body, records, new Set([...seen, name])));
  return Math.max(0, ...ranges, ...recorded);
}

/**
 * Each alert's hold, read from the rule file as shipped: the longest of its rules that the
 * demo's incidents fire, those with a `for` of 2 minutes or less (a burn rate's fast tier, not
 * its slow ones, which a few minutes of trouble never reach).
 */
export function alertHolds(rulesText: string): Map<string, Hold> {
  const { groups } = parse(rulesText) as {
    groups: {
      rules: {
        alert?: string;
        record?: string;
        expr: string;
        for?: string;
        keep_firing_for?: string;
      }[];
    }[];
  };
  const rules = groups.flatMap((g) => g.rules);
  const records = new Map<string, string>();
  for (const r of rules)
    if (r.record) records.set(r.record, `${records.get(r.record) ?? ''} or ${r.expr}`);
  const holds = new Map<string, Hold>();
  for (const rule of rules) {
    if (!rule.alert || seconds(rule.for ?? '0s') > 120) continue;
    const hold = {
      window: lookBack(rule.expr, records),
      keep: rule.keep_firing_for ? seconds(rule.keep_firing_for) : 0,
    };
    const known = holds.get(rule.alert);
    if (!known || known.window + known.keep < hold.window + hold.keep) holds.set(rule.alert, hold);
  }
  return holds;
}

function where(i: Injection): string {
  if (i.gpu !== undefined) return ` on GPU ${i.gpu}`;
  if (i.target !== undefined) return ` on ${i.target}`;
  return '';
}

/** What `inject` prints: what was done, and which alerts to expect, and where. */
export function injected(i: Injection, expect: IncidentInfo, stack: string): string {
  const fires = expect.fires.length
    ? `It raises ${expect.fires.join(', ')} within a few minutes`
    : 'It raises no alert of its own';
  const pending = expect.pending.length
    ? `; ${expect.pending.join(', ')} ${expect.pending.length === 1 ? 'goes' : 'go'} pending (a longer for)`
    : '';
  return (
    `Injected ${i.incident}${where(i)}: ${expect.summary}.\n` +
    `${fires}${pending}. ${stack}\n` +
    "It lasts until 'clear'.\n"
  );
}

/** Where alerts show: in the demo's terminal with --stack; nowhere without a Prometheus. */
export const WHERE_ALERTS_SHOW =
  "With --stack, the demo's terminal prints each page and ticket as Alertmanager delivers it (after its 30 s group wait); without --stack no Prometheus evaluates the rules, and the incident shows only on the agent's /metrics.";

/**
 * What `clear` prints: what was healed and, where a Prometheus evaluates the rules (`holds`),
 * which alerts may keep firing, for how long at most.
 */
export function cleared(
  injections: readonly Injection[],
  incidents: Readonly<Record<string, IncidentInfo>>,
  holds: ReadonlyMap<string, Hold> | undefined,
): string {
  if (injections.length === 0) return 'Nothing to clear: no incident was injected.\n';
  const healed = `Cleared ${injections.map((i) => `${i.incident}${where(i)}`).join(', ')}: the node is healthy again.\n`;
  if (!holds) return healed;
  const alerts = [...new Set(injections.flatMap((i) => incidents[i.incident]?.fires ?? []))];
  const lines = alerts.map((alert) => {
    const hold = holds.get(alert) ?? { window: 0, keep: 0 };
    const parts = [
      ...(hold.window ? [`its ${spoken(hold.window)} window`] : []),
      ...(hold.keep ? [`${spoken(hold.keep)} of keep_firing_for`] : []),
    ];
    return hold.window + hold.keep === 0
      ? `  ${alert}: resolves at the next evaluation`
      : `  ${alert}: may keep firing up to ${spoken(hold.window + hold.keep)} (${parts.join(', then ')})`;
  });
  return (
    healed +
    (lines.length
      ? `Alerts count events over a window, so they stop on their own:\n${lines.join('\n')}\n`
      : '')
  );
}
