import { z } from 'zod';
import { evaluationConfig } from '../eval/config.js';
import { DEFAULT_CANARIES, DEFAULT_LATENCY_PROMPT } from '../probe/canaries.js';
import { PROBE_APIS } from '../probe/dialect.js';

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/;

const ms = (min: number, max: number) => z.int().min(min).max(max);

/** An http(s) URL that holds no user name or password: those would reach logs and pages. */
const httpUrl = () =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
      message: 'must not hold credentials; use headers or api_key_file',
    });

/**
 * HTTP headers to send. A value may not hold a line break or NUL: it would be refused when
 * sent, and the refusal would quote it.
 */
export const headerMap = () =>
  z.record(
    z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'),
    z.string().regex(/^[^\r\n\0]*$/, 'must not hold a line break or NUL'),
  );

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
  url: httpUrl()
    .optional()
    .describe(
      "dcgm-exporter's metrics URL. Unset: http://127.0.0.1:9400/metrics, used only when something answers there as dcgm-exporter; set: a failure to read it is reported as one.",
    ),
  timeout_ms: ms(100, 60_000)
    .default(5000)
    .describe(
      'Longest one read of dcgm-exporter may take. A scrape does not wait for it past collectors.timeout_ms: it serves the last good read meanwhile.',
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
  url: httpUrl().describe(
    'Base URL of the runtime (Triton: its metrics port, such as http://127.0.0.1:8002).',
  ),
  name: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("The target label in metrics (default: the URL's host:port)."),
  headers: headerMap()
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
    .default(5000)
    .describe(
      'Longest one request to a runtime may take. A runtime that takes the connection and does not answer by then is unresponsive (busy), one that refuses it is down. A scrape does not wait for it past collectors.timeout_ms: it serves the last good read meanwhile.',
    ),
  max_models: z
    .int()
    .min(1)
    .max(10_000)
    .default(100)
    .describe(
      'Models per runtime that get series; a runtime reporting more has the rest left out, counted in inferwatch_llm_models_dropped and named by doctor.',
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

/** node-cron fires on calendar seconds: an interval must divide a minute, or an hour in minutes. */
function cronFriendly(s: number): boolean {
  return s <= 60 ? 60 % s === 0 : s % 60 === 0 && 60 % (s / 60) === 0;
}

const canary = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, 'must be 1 to 32 of a-z, 0-9, _ and -')
    .describe('Its name in logs (the prompt never is).'),
  prompt: z.string().min(1).max(2000).describe('The question, sent at temperature 0.'),
  expect: z
    .string()
    .min(1)
    .max(500)
    .refine(
      (p) => {
        try {
          new RegExp(p, 'i');
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be a valid regular expression' },
    )
    .describe('A regular expression the answer must match (case-insensitive).'),
});

const probeTarget = z.strictObject({
  target: z
    .string()
    .min(1)
    .describe(
      "The runtime target's name, as its series' target label says (a configured name, or host:port).",
    ),
  enabled: z.boolean().default(true).describe('Probe this runtime.'),
  model: z
    .string()
    .min(1)
    .optional()
    .describe('The model to ask (default: the first the runtime lists; Ollama: the first loaded).'),
  api: z
    .enum(PROBE_APIS)
    .optional()
    .describe(
      `The API to call, one of ${PROBE_APIS.join(', ')} (default: ollama-chat for Ollama, else openai-chat, falling back to openai-completions where chat is absent).`,
    ),
});

const probe = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Send a small synthetic request to each runtime on a schedule and measure what a user gets.',
      ),
    interval_s: z
      .int()
      .min(5)
      .max(3600)
      .default(60)
      .refine(cronFriendly, {
        message:
          'must divide a minute (5, 6, 10, 12, 15, 20, 30, 60) or an hour in whole minutes (120, 300, 600, ...)',
      })
      .describe(
        'Seconds between probes of one runtime; each runtime gets its own random offset in the interval.',
      ),
    jitter_ratio: z
      .number()
      .min(0)
      .max(0.5)
      .default(0.2)
      .describe('Each run starts up to this share of the interval late, at random.'),
    timeout_ms: ms(1000, 600_000)
      .default(30_000)
      .describe('Longest one probe may take, the load check and model lookup included.'),
    stall_ms: ms(100, 600_000)
      .default(10_000)
      .describe(
        'Longest silence between two output events once output has begun; keep-alives do not count.',
      ),
    max_tokens: z
      .int()
      .min(2)
      .max(256)
      .default(16)
      .describe(
        'Output tokens asked for by the latency probe (at least 2, for a time per output token).',
      ),
    max_body_bytes: z
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024)
      .describe('Largest stream read; a larger one is a failure.'),
    prompt: z
      .string()
      .min(1)
      .max(2000)
      .default(DEFAULT_LATENCY_PROMPT)
      .describe("The latency probe's prompt. Never logged or exported."),
    skip_when: z
      .strictObject({
        requests_waiting_above: z
          .number()
          .min(0)
          .default(0)
          .describe("Skip while more requests than this wait in the runtime's queue."),
        kv_cache_usage_above: z
          .number()
          .min(0)
          .max(1)
          .default(0.8)
          .describe('Skip while the KV cache is fuller than this ratio.'),
      })
      .prefault({})
      .describe('Do no harm: a probe is skipped, not failed, while the runtime is saturated.'),
    backoff_max_s: z
      .int()
      .min(10)
      .max(86_400)
      .default(300)
      .describe(
        'After failures, runs are skipped: 1, 3, 7, ... intervals, up to this many seconds between tries.',
      ),
    marker: z
      .strictObject({
        user: z
          .string()
          .max(64)
          .default('inferwatch-probe')
          .describe(
            "The OpenAI 'user' field of probe requests; empty sends none (for servers that reject it).",
          ),
        request_id_prefix: z
          .string()
          .regex(/^[A-Za-z0-9._-]{0,32}$/, 'must be up to 32 of A-Z, a-z, 0-9, ., _ and -')
          .default('inferwatch-probe-')
          .describe('Prefix of the X-Request-Id header of probe requests.'),
      })
      .prefault({})
      .describe('How probe requests are marked, so runtime logs can tell them from users.'),
    canary: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Run correctness canaries.'),
        every_runs: z
          .int()
          .min(1)
          .max(1000)
          .default(5)
          .describe('Every Nth run of a runtime is a canary instead of a latency probe.'),
        max_tokens: z
          .int()
          .min(1)
          .max(512)
          .default(16)
          .describe('Output tokens a canary may use (reasoning models need more).'),
        prompts: z
          .array(canary)
          .min(1)
          .max(50)
          .default(DEFAULT_CANARIES.map((c) => ({ ...c })))
          .refine((list) => new Set(list.map((c) => c.name)).size === list.length, {
            message: 'each canary needs its own name',
          })
          .describe(
            'Canaries, asked in turn, each {name, prompt, expect}; default: small arithmetic and a capital city.',
          ),
      })
      .prefault({})
      .describe('Questions with a known answer, asked at temperature 0.'),
    ollama: z
      .strictObject({
        load_models: z
          .boolean()
          .default(false)
          .describe(
            'Probe an Ollama model that is not loaded, loading it (and perhaps evicting another).',
          ),
      })
      .prefault({})
      .describe('Ollama.'),
    targets: z
      .array(probeTarget)
      .max(64)
      .default([])
      .describe(
        'Per-runtime settings, each {target, enabled, model, api}; runtimes not listed are probed with the defaults.',
      ),
    otlp: z
      .strictObject({
        endpoint: httpUrl()
          .optional()
          .describe(
            'OTLP/HTTP traces URL (such as http://127.0.0.1:4318/v1/traces): each probe run becomes a span with GenAI attributes. Unset: no OpenTelemetry is loaded.',
          ),
        headers: headerMap()
          .default({})
          .describe('Headers sent to the OTLP endpoint. Never logged.'),
        timeout_ms: ms(100, 60_000).default(10_000).describe('Longest one export may take.'),
      })
      .prefault({})
      .describe('OpenTelemetry export of probe runs.'),
  })
  .refine((p) => p.timeout_ms < p.interval_s * 1000 * (1 - p.jitter_ratio), {
    message: 'must be less than interval_s less its jitter, so runs of one runtime never overlap',
    path: ['timeout_ms'],
  })
  .refine((p) => p.stall_ms < p.timeout_ms, {
    message: 'must be less than timeout_ms',
    path: ['stall_ms'],
  })
  .refine((p) => p.backoff_max_s >= p.interval_s, {
    message: 'must be at least interval_s',
    path: ['backoff_max_s'],
  })
  .refine((p) => new Set(p.targets.map((t) => t.target)).size === p.targets.length, {
    message: 'each target may be listed once',
    path: ['targets'],
  });

const usd = z.number().min(0).max(1e9);
const money = (what: string) => usd.optional().describe(what);

const apiReference = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1 to 64 of A-Z, a-z, 0-9, ., _, : and -')
    .describe('The reference as panels name it, such as gpt-4o-mini.'),
  input_usd_per_million: usd.describe('Its price per million input (prompt) tokens, in USD.'),
  output_usd_per_million: usd.describe('Its price per million output tokens, in USD.'),
  as_of: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
    .describe('When the price was read from the vendor: list prices change.'),
});

const cost = z
  .strictObject({
    hardware: z
      .strictObject({
        capex_usd: money("What this node's server and GPUs cost to buy."),
        residual_usd: usd
          .default(0)
          .describe('What they will be worth at the end of the amortization.'),
        amortization_months: z
          .int()
          .min(1)
          .max(240)
          .default(48)
          .describe('Months over which the purchase is spread.'),
      })
      .prefault({})
      .describe('The purchase, amortized into a cost per hour.'),
    operations_usd_per_month: money("This node's share of operations labour per month."),
    facility_usd_per_month: money(
      'Rack space, cooling and colocation per month, where not in the PUE.',
    ),
    licences_usd_per_month: money(
      'Software licences per month (per-GPU enterprise licences, say).',
    ),
    energy: z
      .strictObject({
        price_usd_per_kwh: money('What a kWh costs at this site.'),
        pue: z
          .number()
          .min(1)
          .max(3)
          .default(1)
          .describe(
            "Power usage effectiveness: facility energy per IT energy. 1 counts the GPUs' own energy only; the industry average is about 1.56 (Uptime Institute, 2024).",
          ),
      })
      .prefault({})
      .describe('Energy: measured GPU energy x PUE x price.'),
    requests_per_task: z
      .number()
      .positive()
      .max(1e6)
      .default(1)
      .describe('Requests one task takes (an agent that calls the model 5 times per task: 5).'),
    api_references: z
      .array(apiReference)
      .max(20)
      .default([])
      .describe(
        'Cloud API prices to compare against, each {name, input_usd_per_million, output_usd_per_million, as_of}.',
      ),
  })
  .refine(
    (c) => c.hardware.capex_usd === undefined || c.hardware.residual_usd <= c.hardware.capex_usd,
    { message: 'must not exceed hardware.capex_usd', path: ['hardware', 'residual_usd'] },
  )
  .refine((c) => new Set(c.api_references.map((r) => r.name)).size === c.api_references.length, {
    message: 'each reference needs its own name',
    path: ['api_references'],
  });

const proxyRoute = z.strictObject({
  listen: z
    .string()
    .regex(HOST_PORT, 'must be HOST:PORT, such as 0.0.0.0:11435')
    .refine((l) => Number(l.slice(l.lastIndexOf(':') + 1)) <= 65_535, {
      message: 'the port must be 0 to 65535',
    })
    .describe("Address clients use instead of the runtime's own port."),
  upstream: httpUrl().describe(
    'Base URL of the runtime every request is passed to, unchanged (the only place the route sends to: it is never an open proxy).',
  ),
  runtime: z
    .enum(RUNTIMES)
    .describe(
      'The runtime behind it: which paths are inference requests and how its answers are framed.',
    ),
  name: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe(
      "The target label of what it measures (default: the upstream's host:port, the name the runtimes collector gives the same runtime, so both join).",
    ),
  max_concurrency: z
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .describe(
      'Requests the runtime runs at once (Ollama: OLLAMA_NUM_PARALLEL; llama.cpp: --parallel). With it, requests in flight beyond it count as waiting; without it, all count as running.',
    ),
  preserve_host: z
    .boolean()
    .default(false)
    .describe(
      "Pass the client's Host header on; by default the upstream's host:port is sent, as a reverse proxy does (Ollama refuses other hosts on loopback).",
    ),
});

const proxy = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Serve the routes (only under `inferwatch run`; once, doctor and probe never listen).',
      ),
    routes: z
      .array(proxyRoute)
      .max(32)
      .default([])
      .describe(
        'Metering routes, each {listen, upstream, runtime, name, max_concurrency, preserve_host}: request metrics for runtimes that report none (Ollama) or only some.',
      ),
    max_streams: z
      .int()
      .min(1)
      .max(10_000)
      .default(256)
      .describe(
        'Requests one route carries at once; more are answered 503 at once and counted as rejected.',
      ),
    connect_timeout_ms: ms(100, 60_000)
      .default(5000)
      .describe('Longest the connection to the upstream may take; then the client gets a 504.'),
    idle_timeout_ms: ms(1000, 3_600_000)
      .default(600_000)
      .describe(
        'Longest the upstream may stay silent, before its answer starts or between two of its chunks (a model load can take minutes); then the request is cut and counted as an error.',
      ),
  })
  .refine((p) => new Set(p.routes.map((r) => r.listen)).size === p.routes.length, {
    message: 'two routes listen on the same address',
    path: ['routes'],
  });

export const ConfigSchema = z
  .strictObject({
    listen: z
      .string()
      .regex(HOST_PORT, 'must be HOST:PORT, such as 0.0.0.0:9500 or [::1]:9500')
      .refine((l) => Number(l.slice(l.lastIndexOf(':') + 1)) <= 65_535, {
        message: 'the port must be 0 to 65535',
      })
      .default('0.0.0.0:9500')
      .describe('Address of the HTTP server for /metrics (the --listen flag overrides it).'),
    log_level: z
      .enum(['debug', 'info', 'warn', 'error'])
      .default('info')
      .describe('Least severe log level written (JSON, to stderr).'),
    state_dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Where what must survive restarts and upgrades is kept (the evaluation's baselines). Default: $STATE_DIRECTORY (systemd's StateDirectory=), else /var/lib/inferwatch as root, else ~/.local/state/inferwatch.",
      ),
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
        max_connections: z
          .int()
          .min(1)
          .max(10_000)
          .default(128)
          .describe(
            'Open connections at once. Past it, each new connection closes the oldest one not serving a request (a client trickling its headers, an idle keep-alive); while all are serving, up to 8 times as many are let in, and more are refused.',
          ),
        config_file: z
          .string()
          .min(1)
          .optional()
          .describe(
            'A web config file in the Prometheus exporter-toolkit format (as node_exporter --web.config.file): TLS and basic auth for every endpoint but /healthz.',
          ),
        header_timeout_ms: ms(500, 60_000)
          .default(10_000)
          .describe(
            'Longest a client may take to send its request headers; a slower one is cut off (slowloris).',
          ),
      })
      .prefault({})
      .describe('The HTTP server.'),
    collectors: z
      .strictObject({
        timeout_ms: ms(50, 60_000)
          .default(500)
          .describe(
            "Longest a scrape waits for any source. A source still reading then is served from its last good values (their age in inferwatch_collector_last_success_timestamp_seconds) or left out, and counted as slow; its read goes on in the background. Keep it well under Prometheus' scrape_timeout.",
          ),
        max_series_per_family: z
          .int()
          .min(10)
          .max(1_000_000)
          .default(10_000)
          .describe(
            'Series one source may export in one family; beyond it they are left out and counted in inferwatch_collector_series_dropped (a runtime naming thousands of models, say).',
          ),
        max_staleness_ms: ms(1000, 3_600_000)
          .default(60_000)
          .describe(
            "A source's last good values are served at most this long after they were read; older, they are left out.",
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
      .describe('The sources of metrics.'),
    probe: probe.prefault({}).describe('The synthetic inference probe.'),
    evaluation: evaluationConfig
      .prefault({})
      .describe(
        'Quality as a metric: suites of questions with known answers, run again when anything under a model changes.',
      ),
    proxy: proxy
      .prefault({})
      .describe(
        'A transparent metering proxy: clients use its routes instead of the runtime ports, and it measures what they get.',
      ),
    cost: cost
      .prefault({})
      .describe(
        'What the node costs. Nothing set, no cost series: the agent never makes up a price.',
      ),
  })
  .refine((c) => !c.proxy.routes.some((r) => r.listen === c.listen), {
    message: 'a proxy route listens on the address of /metrics',
    path: ['proxy', 'routes'],
  })
  .refine((c) => c.proxy.routes.length === 0 || c.collectors.runtimes.enabled, {
    message:
      'the runtimes collector serves what the routes measure: collectors.runtimes.enabled must stay true with proxy routes',
    path: ['proxy', 'routes'],
  });

export type Config = z.output<typeof ConfigSchema>;
