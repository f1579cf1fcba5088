import { z } from 'zod';
import { ms, restartBackoff } from '../../core/config-fields.js';
import { RUNTIME_KINDS } from '../runtimes/adapters/index.js';

const logSource = z
  .strictObject({
    runtime: z.enum(RUNTIME_KINDS).describe('The runtime writing the log.'),
    target: z
      .string()
      .min(1)
      .optional()
      .describe("The runtime's name in metrics (default: the unit or file name)."),
    path: z
      .string()
      .min(1)
      .optional()
      .describe('A log file, followed across rotation and truncation.'),
    journald_unit: z
      .string()
      .min(1)
      .optional()
      .describe('A systemd unit whose journal is followed.'),
  })
  .refine((s) => (s.path === undefined) !== (s.journald_unit === undefined), {
    message: 'give exactly one of path and journald_unit',
  });

const runtimeLogs = z.strictObject({
  enabled: z.boolean().default(true).describe('Count CUDA out-of-memory errors in runtime logs.'),
  sources: z
    .array(logSource)
    .max(64)
    .default([])
    .describe(
      'Logs to follow, each {runtime, target, path or journald_unit}; runtime is one of ' +
        `${RUNTIME_KINDS.join(', ')}.`,
    ),
  poll_interval_ms: ms(100, 60_000).default(1000).describe('How often log files are read.'),
  journalctl_command: z
    .string()
    .min(1)
    .default('journalctl')
    .describe('journalctl, for journald units.'),
  restart_backoff: restartBackoff
    .prefault({})
    .describe('Exponential backoff between restarts of journalctl.'),
});

export const runtimeLogsConfig = runtimeLogs
  .prefault({})
  .describe('Runtime logs: CUDA out of memory.');
