import type { RuleSettings } from './settings.js';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly keep_firing_for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
}

export interface RecordRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly (AlertRule | RecordRule)[];
}

export type Severity = 'critical' | 'warning' | 'none';

/** An alert as its area declares it: what panels link to and the tables list, by reference. */
export interface AlertDef {
  readonly name: string;
  readonly severity: Severity;
  readonly component: string;
  /** When it fires, for a person, with the thresholds of the settings: the table of docs/alerts.md. */
  readonly firesWhen: (s: RuleSettings) => string;
}

export function defineAlert(
  name: string,
  severity: Severity,
  component: string,
  firesWhen: (s: RuleSettings) => string,
): AlertDef {
  return { name, severity, component, firesWhen };
}

/** What every area's alerting rules get the same way (the runbook link, for one). */
export interface RuleContext {
  alert(
    def: AlertDef,
    expr: string,
    text: { summary: string; description: string },
    timing?: { for?: string; keep_firing_for?: string },
    extraLabels?: Record<string, string>,
  ): AlertRule;
}

/**
 * One area of the bundle, as a monitoring mixin has them: its alerts, its rule groups written
 * from its slice of the settings, and its promtool tests. Beside it, `<area>.panels.ts` holds its
 * panels (linking alerts by reference), which the dashboards in dashboards/src lay out; each
 * alert has its runbook in runbooks/<name>.md.
 */
export interface Area {
  readonly name: string;
  readonly alerts: readonly AlertDef[];
  /** Its promtool test files, in alerts/tests/. */
  readonly tests: readonly string[];
  groups(s: RuleSettings, rule: RuleContext): RuleGroup[];
}

/** A figure as a person reads it: ten significant digits, so 0.1 * 100 is 10. */
export function round(value: number): number {
  return Number(value.toPrecision(10));
}

export function pct(ratio: number): string {
  return `${round(ratio * 100)} %`;
}

/** A share as the alert table writes it: `10%`. */
export const percent = (ratio: number): string => `${round(ratio * 100)}%`;
