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

const dcgm = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      'Read a dcgm-exporter for SM, tensor and DRAM activity, NVLink and PCIe figures and an exact energy counter.',
    ),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional()
    .describe(
      "dcgm-exporter's metrics URL. Unset: http://127.0.0.1:9400/metrics, used only when something answers there as dcgm-exporter; set: a failure to read it is reported as one.",
    ),
  timeout_ms: ms(100, 60_000)
    .optional()
    .describe(
      'Longest one read may take (default: 80% of collectors.timeout_ms); must be below collectors.timeout_ms.',
    ),
  max_body_bytes: z
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(16 * 1024 * 1024)
    .describe('Largest answer read; a larger one is an error.'),
});

export const RUNTIMES = ['vllm', 'sglang', 'tgi', 'llamacpp', 'ollama', 'triton', 'nim'] as const;

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

const runtimeTarget = z.strictObject({
  kind: z
    .enum(RUNTIMES)
    .optional()
    .describe('The runtime; when left out it is identified by what its endpoints answer.'),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
      message: 'must not hold credentials; use headers or api_key_file',
    })
    .describe('Base URL of the runtime (Triton: its metrics port, such as http://127.0.0.1:8002).'),
  name: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("The target label in metrics (default: the URL's host:port)."),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'), z.string())
    .default({})
    .describe('Extra HTTP headers sent to the runtime. Never logged.'),
  api_key_file: z
    .string()
    .min(1)
    .optional()
    .describe(
      'File (at most 64 KiB) holding an API key sent as "Authorization: Bearer KEY". Never logged.',
    ),
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional()
    .describe('Environment variable holding an API key, sent as a bearer token.'),
});

const runtimes = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe("Read LLM runtimes' metrics and APIs, normalized to the inferwatch_llm_* families."),
  targets: z
    .array(runtimeTarget)
    .max(64)
    .default([])
    .describe('Runtimes to read, each {kind, url, name, headers, api_key_file or api_key_env}.'),
  timeout_ms: ms(100, 60_000)
    .optional()
    .describe(
      'Longest one runtime read may take (default: 80% of collectors.timeout_ms); must be below collectors.timeout_ms, so one hung runtime never costs the others their series.',
    ),
  max_body_bytes: z
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(10 * 1024 * 1024)
    .describe('Largest answer read from a runtime; a larger one is an error.'),
  refresh_interval_s: z
    .int()
    .min(10)
    .max(86_400)
    .default(300)
    .describe(
      'How often runtimes are looked for again and their version and model re-read (a restart on another port, a model swapped).',
    ),
  discovery: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Look for runtimes on their default ports, identified by what they answer.'),
      host: z.string().min(1).default('127.0.0.1').describe('The host to look on.'),
      ports: z
        .array(z.int().min(1).max(65_535))
        .max(64)
        .optional()
        .describe(
          "Ports to look on (default: every runtime's default port: 8000, 30000, 3000, 8080, 11434, 8002).",
        ),
      timeout_ms: ms(100, 60_000)
        .default(3000)
        .describe('Longest one discovery pass may take, all ports together.'),
    })
    .prefault({})
    .describe('Auto-discovery of local runtimes.'),
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
      dcgm: dcgm.prefault({}).describe('NVIDIA DCGM through a dcgm-exporter.'),
      kernel_events: kernelEvents
        .prefault({})
        .describe('The kernel log: Xid errors and OOM kills.'),
      runtimes: runtimes
        .prefault({})
        .describe('LLM runtimes: vLLM, SGLang, TGI, llama.cpp, Ollama, Triton, NIM.'),
      runtime_logs: runtimeLogs.prefault({}).describe('Runtime logs: CUDA out of memory.'),
      host: host.prefault({}).describe('The host.'),
    })
    .prefault({})
    .describe('The sources of metrics.')
    .refine((c) => c.runtimes.timeout_ms === undefined || c.runtimes.timeout_ms < c.timeout_ms, {
      message: 'must be less than collectors.timeout_ms',
      path: ['runtimes', 'timeout_ms'],
    })
    .refine((c) => c.dcgm.timeout_ms === undefined || c.dcgm.timeout_ms < c.timeout_ms, {
      message: 'must be less than collectors.timeout_ms',
      path: ['dcgm', 'timeout_ms'],
    }),
});

export type Config = z.output<typeof ConfigSchema>;
