import { replaceSection } from '../../agent/docs/reference.js';
import { parseSettings } from './settings.js';
import { alertReference } from './reference.js';

/** The README with its alert table made from alerts/settings.yaml's rules (`npm run bundle`). */
export function readmeWithAlerts(readme: string, settingsText: string): string {
  const settings = parseSettings(settingsText, 'alerts/settings.yaml');
  return replaceSection(readme, 'alert-reference', alertReference(settings));
}
