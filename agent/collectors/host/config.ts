import { z } from 'zod';

const host = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('Export host CPU, memory, free space and kernel OOM kills.'),
  proc_path: z
    .string()
    .min(1)
    .default('/proc')
    .describe('Where procfs is mounted (/host/proc in a container).'),
  filesystem_paths: z
    .array(z.string().min(1))
    .max(32)
    .default(['/'])
    .describe('Paths whose filesystem free space is exported, such as the model store.'),
});

export const hostConfig = host.prefault({}).describe('The host.');
