import { z } from 'zod';

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/;

const ms = (min: number, max: number) => z.int().min(min).max(max);

const backoff = z
  .strictObject({
    initial_ms: ms(100, 600_000)
      .default(1000)
      .describe('First delay before a failed stream is restarted.'),
    max_ms: ms(100, 3_600_000)
      .default(60_000)
      .describe('Longest delay; each failure doubles the delay up to this.'),
  })
  .refine((b) => b.max_ms >= b.initial_ms, {
    message: 'max_ms must be at least initial_ms',
    path: ['max_ms'],
  });

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
      'Time allowed for the start-up field probe and the first sample (slow without persistence mode).',
    ),
  restart_backoff: backoff
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
    })
    .prefault({})
    .describe('Per-process GPU memory, on its own slower stream.'),
});

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
  restart_backoff: backoff
    .prefault({})
    .describe('Exponential backoff between restarts of the reader.'),
});

const RUNTIMES = ['vllm', 'sglang', 'tgi', 'llamacpp', 'ollama', 'triton', 'nim'] as const;

const logSource = z
  .strictObject({
    runtime: z.enum(RUNTIMES).describe('The runtime writing the log.'),
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
        `${RUNTIMES.join(', ')}.`,
    ),
  poll_interval_ms: ms(100, 60_000).default(1000).describe('How often log files are read.'),
  journalctl_command: z
    .string()
    .min(1)
    .default('journalctl')
    .describe('journalctl, for journald units.'),
  restart_backoff: backoff
    .prefault({})
    .describe('Exponential backoff between restarts of journalctl.'),
});

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

export const ConfigSchema = z.strictObject({
  listen: z
    .string()
    .regex(HOST_PORT, 'must be HOST:PORT, such as 0.0.0.0:9500 or [::1]:9500')
    .default('0.0.0.0:9500')
    .describe('Address of the HTTP server for /metrics (the --listen flag overrides it).'),
  log_level: z
    .enum(['debug', 'info', 'warn', 'error'])
    .default('info')
    .describe('Least severe log level written (JSON, to stderr).'),
  web: z
    .strictObject({
      max_requests: z
        .int()
        .min(1)
        .max(1000)
        .default(40)
        .describe('Requests served at once; more are answered 503.'),
      process_metrics: z
        .boolean()
        .default(true)
        .describe("Export the agent's own process_* and nodejs_* metrics."),
    })
    .prefault({})
    .describe('The HTTP server.'),
  collectors: z
    .strictObject({
      timeout_ms: ms(100, 60_000)
        .default(5000)
        .describe(
          'Longest a collector may take in one scrape; past it, it reports failure and its series are left out.',
        ),
      nvidia_smi: nvidiaSmi.prefault({}).describe('NVIDIA GPUs through nvidia-smi.'),
      kernel_events: kernelEvents
        .prefault({})
        .describe('The kernel log: Xid errors and OOM kills.'),
      runtime_logs: runtimeLogs.prefault({}).describe('Runtime logs: CUDA out of memory.'),
      host: host.prefault({}).describe('The host.'),
    })
    .prefault({})
    .describe('The sources of metrics.'),
});

export type Config = z.output<typeof ConfigSchema>;
