import { ALERT_CONDITIONS } from './conditions.js';
import { ruleGroups, type AlertRule } from './rules.js';
import type { RuleSettings } from './settings.js';

/**
 * The README's alert table, from the rules the settings make: each alert once (the burn-rate
 * tiers are one alert at several severities and `for`s), in the order of the rule file.
 */
export function alertReference(s: RuleSettings): string {
  const alerts = new Map<string, AlertRule[]>();
  for (const group of ruleGroups(s))
    for (const rule of group.rules)
      if ('alert' in rule) alerts.set(rule.alert, [...(alerts.get(rule.alert) ?? []), rule]);
  const rows = [...alerts].map(([name, tiers]) => {
    const condition = ALERT_CONDITIONS[name];
    if (!condition) throw new Error(`${name} has no line in alerts/src/conditions.ts`);
    const severities = [...new Set(tiers.map((t) => t.labels.severity ?? ''))];
    const fors = [...new Set(tiers.map((t) => t.for ?? '0'))];
    const forText = severities.includes('none') ? '-' : fors.join(', ');
    return `| \`${name}\` | ${severities.join(' / ')} | ${condition(s).replace(/\|/g, '\\|')} | ${forText} |`;
  });
  const stray = Object.keys(ALERT_CONDITIONS).filter((name) => !alerts.has(name));
  if (stray.length) throw new Error(`no alert for ${stray.join(', ')} in alerts/src/conditions.ts`);
  return ['| alert | severity | fires when | for |', '|---|---|---|---|', ...rows].join('\n');
}
