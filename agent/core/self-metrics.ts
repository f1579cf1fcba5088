import type { Exposition } from './exposition.js';
import { counter, gauge, type MetricDef } from './metric.js';

export const BUILD_INFO = gauge(
  'inferwatch_build_info',
  'A metric with a constant 1, labelled by the version of inferwatch and of Node.js it runs on.',
  ['version', 'node_version'],
);
export const WEB_INFO = gauge(
  'inferwatch_web_info',
  'A metric with a constant 1 while the agent serves HTTP, labelled by the scheme it serves on (http, or https with TLS from web.config_file). Alert and panel runbook links find a live agent through it.',
  ['scheme'],
);
export const COLLECTOR_SUCCESS = gauge(
  'inferwatch_collector_success',
  'Whether the collector succeeded in this scrape (1) or failed, timed out or was degraded (0).',
  ['collector'],
);
export const COLLECTOR_DURATION = gauge(
  'inferwatch_collector_duration_seconds',
  'How long the collector took in this scrape.',
  ['collector'],
);
export const COLLECTOR_LAST_SUCCESS = gauge(
  'inferwatch_collector_last_success_timestamp_seconds',
  "Unix time of the collector's last successful scrape.",
  ['collector'],
);
export const SERIES_DROPPED = gauge(
  'inferwatch_collector_series_dropped',
  'Series a collector wrote in this scrape beyond collectors.max_series_per_family for one family, left out. Absent when none were.',
  ['collector', 'family'],
);
export const SOURCE_ERRORS = counter(
  'inferwatch_source_errors_total',
  'Errors met while reading a source, by collector and reason (timeout, exited, silent, driver_error, bad_line, ...).',
  ['collector', 'reason'],
);

export const CONFIG_RELOAD_SUCCESS = gauge(
  'inferwatch_config_last_reload_successful',
  'Whether the last reading of the configuration (at start, or on SIGHUP) succeeded (1) or was refused as invalid, the previous one staying in force (0).',
);
export const CONFIG_RELOAD_TIME = gauge(
  'inferwatch_config_last_reload_success_timestamp_seconds',
  'When the configuration in force was read, in seconds since the epoch.',
);

export const SELF_METRICS: readonly MetricDef[] = [
  BUILD_INFO,
  WEB_INFO,
  CONFIG_RELOAD_SUCCESS,
  CONFIG_RELOAD_TIME,
  COLLECTOR_SUCCESS,
  COLLECTOR_DURATION,
  COLLECTOR_LAST_SUCCESS,
  SERIES_DROPPED,
  SOURCE_ERRORS,
];

/** Counts source errors as they happen (a stream exiting, a garbage line), not once per scrape. */
export interface SourceErrors {
  count(collector: string, reason: string, by?: number): void;
}

/** Defines the self metrics and returns the source-error sink that collectors count into. */
export function defineSelfMetrics(exposition: Exposition, version: string): SourceErrors {
  for (const def of SELF_METRICS) exposition.define(def);
  exposition.publish(
    [BUILD_INFO],
    new Map([[BUILD_INFO, [{ labels: { version, node_version: process.version }, value: 1 }]]]),
  );
  return {
    count: (collector, reason, by = 1) =>
      exposition.count(SOURCE_ERRORS, { collector, reason }, by),
  };
}
