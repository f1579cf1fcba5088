import { AREAS } from './areas/index.js';
import type { AlertRule } from './rule.js';
import { ruleGroups } from './rules.js';
import type { RuleSettings } from './settings.js';

/**
 * The alert table of docs/alerts.md, area by area, from the alerts the areas declare (when each fires,
 * with the settings' thresholds) and the rules the settings make (severity, `for`): each alert
 * once, the burn-rate tiers being one alert at several severities and `for`s.
 */
export function alertReference(s: RuleSettings): string {
  const rules = new Map<string, AlertRule[]>();
  for (const group of ruleGroups(s))
    for (const rule of group.rules)
      if ('alert' in rule) rules.set(rule.alert, [...(rules.get(rule.alert) ?? []), rule]);
  const rows = AREAS.flatMap((area) =>
    area.alerts.map((alert) => {
      const tiers = rules.get(alert.name);
      if (!tiers)
        throw new Error(`${alert.name} is declared by the ${area.name} area but has no rule`);
      rules.delete(alert.name);
      const severities = [...new Set(tiers.map((t) => t.labels.severity ?? ''))];
      const fors = [...new Set(tiers.map((t) => t.for ?? '0'))];
      const forText = severities.includes('none') ? '-' : fors.join(', ');
      return `| ${area.name} | \`${alert.name}\` | ${severities.join(' / ')} | ${alert.firesWhen(s).replace(/\|/g, '\\|')} | ${forText} |`;
    }),
  );
  if (rules.size) throw new Error(`no area declares ${[...rules.keys()].join(', ')}`);
  return ['| area | alert | severity | fires when | for |', '|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}
