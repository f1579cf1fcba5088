import { z } from 'zod';
import { ms, restartBackoff } from '../../core/config-fields.js';

const nvidiaSmi = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('Read GPUs through nvidia-smi. A missing nvidia-smi is reported, not fatal.'),
  command: z
    .string()
    .min(1)
    .default('nvidia-smi')
    .describe('The nvidia-smi to run: a name looked up on PATH, or a path.'),
  interval_ms: ms(100, 60_000)
    .default(1000)
    .describe('Sampling interval of the long-lived nvidia-smi stream (-lms).'),
  silence_intervals: z
    .int()
    .min(2)
    .max(100)
    .default(3)
    .describe(
      'Intervals without output after which the stream counts as wedged: its data is dropped and it is restarted.',
    ),
  start_timeout_ms: ms(1000, 120_000)
    .default(10_000)
    .describe(
      'Time allowed for the start-up field check and the first sample (slow without persistence mode).',
    ),
  restart_backoff: restartBackoff
    .prefault({})
    .describe('Exponential backoff between restarts of a failed stream.'),
  processes: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Export per-process GPU memory (nvidia-smi --query-compute-apps).'),
      interval_ms: ms(1000, 600_000)
        .default(10_000)
        .describe('Sampling interval of the per-process stream.'),
      runtime_attribution: z
        .boolean()
        .default(true)
        .describe(
          "Label each process with the runtime that owns it, found through the runtime's listening port in /proc (collectors.host.proc_path). Other users' runtimes need root or CAP_SYS_PTRACE.",
        ),
    })
    .prefault({})
    .describe('Per-process GPU memory, on its own slower stream.'),
});

export const nvidiaSmiConfig = nvidiaSmi.prefault({}).describe('NVIDIA GPUs through nvidia-smi.');
