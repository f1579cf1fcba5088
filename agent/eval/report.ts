import type { Confidence } from './stats.js';
import { wilson } from './stats.js';
import type { Entry, RunSummary } from './state.js';

/**
 * The margin of the shipped regression alert (quality.regression_margin in
 * alerts/settings.yaml): the report judges as the page would by default.
 */
export const REPORT_MARGIN = 0.1;

/** How a run compares with its baseline, for a person and for the exit status. */
export function verdictOf(
  run: RunSummary,
  baseline: RunSummary | undefined,
  confidence: Confidence,
): 'no baseline' | 'a regression (the alert would page)' | 'within chance of it' | 'as good' {
  if (!baseline) return 'no baseline';
  if (wilson(run.passRatio, run.cases, confidence).upper < baseline.passRatio - REPORT_MARGIN)
    return 'a regression (the alert would page)';
  return run.passRatio < baseline.passRatio ? 'within chance of it' : 'as good';
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** One run, as `inferwatch eval` prints it. Case ids only: never a prompt or an answer. */
export function formatRun(
  where: { suite: string; target: string; runtime: string; model: string },
  run: RunSummary,
  baseline: RunSummary | undefined,
  confidence: Confidence,
): string {
  const bounds = wilson(run.passRatio, run.cases, confidence);
  const lines = [
    `${where.suite} on ${where.target} (${where.runtime}${run.fingerprint.runtimeVersion ? ` ${run.fingerprint.runtimeVersion}` : ''}, ${where.model || 'its one model'}): ${run.counts.pass} of ${run.cases} cases pass, pass ratio ${run.passRatio.toFixed(3)} (${Math.round(confidence * 100)}% interval ${bounds.lower.toFixed(3)} to ${bounds.upper.toFixed(3)}), ${run.durationS.toFixed(1)} s`,
  ];
  if (baseline) {
    const change = run.passRatio - baseline.passRatio;
    lines.push(
      `  baseline ${baseline.passRatio.toFixed(3)} (${utc(baseline.atMs)}${baseline.fingerprint.runtimeVersion ? `, runtime ${baseline.fingerprint.runtimeVersion}` : ''}${baseline.fingerprint.driverVersion ? `, driver ${baseline.fingerprint.driverVersion}` : ''}): ${change >= 0 ? '+' : ''}${change.toFixed(3)}, ${verdictOf(run, baseline, confidence)}`,
    );
  } else lines.push('  no baseline yet: the agent keeps its first complete run as one');
  if (run.failing.length) lines.push(`  failed: ${run.failing.join(', ')}`);
  if (run.flaky.length) lines.push(`  flaky: ${run.flaky.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function formatAccepted(entry: Entry, before: RunSummary): string {
  return `accepted: ${entry.suite} on ${entry.target} (${entry.model}): baseline ${before.passRatio.toFixed(3)} -> ${entry.baseline.passRatio.toFixed(3)} (the run of ${utc(entry.baseline.atMs)})\n`;
}
