import { replaceSection } from '../../agent/docs/reference.js';
import { parseSettings } from './settings.js';
import { alertReference } from './reference.js';

/** Where the alert table is: docs/alerts.md. */
export const ALERT_PAGE = 'docs/alerts.md';

/** That page with its alert table made from alerts/settings.yaml's rules (`npm run bundle`). */
export function withAlertTable(page: string, settingsText: string): string {
  const settings = parseSettings(settingsText, 'alerts/settings.yaml');
  return replaceSection(page, 'alert-reference', alertReference(settings));
}
