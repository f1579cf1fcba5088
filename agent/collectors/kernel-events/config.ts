import { z } from 'zod';
import { restartBackoff } from '../../core/config-fields.js';

const kernelEvents = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      'Count Xid errors and OOM-killer victims from the kernel log (needs CAP_SYSLOG or root).',
    ),
  dmesg_command: z
    .string()
    .min(1)
    .default('dmesg')
    .describe("util-linux dmesg, run as 'dmesg --kernel --follow-new --notime'."),
  journalctl_command: z
    .string()
    .min(1)
    .default('journalctl')
    .describe('journalctl, the fallback where dmesg may not read the kernel log.'),
  restart_backoff: restartBackoff
    .prefault({})
    .describe('Exponential backoff between restarts of the reader.'),
});

export const kernelEventsConfig = kernelEvents
  .prefault({})
  .describe('The kernel log: Xid errors and OOM kills.');
