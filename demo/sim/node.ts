import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { SimulatedDcgmExporter, type GpuActivity } from './dcgm.js';
import type { SimulatedKind } from './exposition.js';
import { kernelBusOf } from './gpu-identity.js';
import { INCIDENTS, type IncidentName } from './incidents.js';
import { placeGpuProcesses } from './gpu-processes.js';
import { SimulatedProcfs } from './procfs.js';
import { seededRandom, type Random } from './random.js';
import { ChatClients, freeLoopbackPort } from './clients.js';
import { SimulatedOllama } from './ollama.js';
import { SimulatedRuntime } from './runtime.js';

/** The repository root, from demo/sim (tests) or dist/demo/sim (the demo). */
export const ROOT = repositoryRoot(dirname(fileURLToPath(import.meta.url)));

function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
const FAKE_BIN = join(ROOT, 'demo/fake/bin');
const CUDA_OOM_LOG = join(
  ROOT,
  'test/fixtures/runtime-logs/cuda-oom_vllm-v1-enginecore-log_then-critical.txt',
);

export interface RuntimeSpec {
  /** Its target name in metrics. */
  readonly name: string;
  readonly kind: SimulatedKind;
  readonly model: string;
  readonly requestsPerSecond?: number;
  readonly maxConcurrency?: number;
}

export interface NodeOptions {
  /** The node's name: the `node` label Prometheus gives its agent. */
  readonly name: string;
  /** Where its files go (kernel log, runtime logs, procfs, nvidia-smi control, agent config). */
  readonly dir: string;
  readonly gpus?: number;
  readonly runtimes?: readonly RuntimeSpec[];
  /**
   * An Ollama (no metrics of its own) behind the agent's metering proxy, its users' chats sent
   * through the proxy at this rate. Its target is named `ollama`.
   */
  readonly ollama?: { readonly model: string; readonly requestsPerSecond: number };
  readonly seed?: number;
  /**
   * GPUs with fans, whose speed follows the load: a PCIe card in an air-cooled chassis. The
   * default is the H100 SXM of the capture the fake nvidia-smi replays, which has none and
   * prints [N/A].
   */
  readonly fans?: boolean;
}

/** The target name of a node's proxied Ollama. */
export const OLLAMA_TARGET = 'ollama';
/** How long a healthy simulated Ollama takes to its first token, and how long a slow one. */
const OLLAMA_FIRST_TOKEN_MS = 150;
const OLLAMA_SLOW_FIRST_TOKEN_MS = 3000;

export const DEFAULT_RUNTIMES: readonly RuntimeSpec[] = [
  { name: 'vllm', kind: 'vllm', model: 'meta-llama/Llama-3.1-8B-Instruct' },
  { name: 'sglang', kind: 'sglang', model: 'Qwen/Qwen2.5-7B-Instruct', maxConcurrency: 48 },
];

export interface InjectOptions {
  /** The GPU a GPU incident hits (default: one GPU per kind of incident, so they can overlap). */
  readonly gpu?: number;
  /** The runtime target a runtime incident hits (default: the first). */
  readonly target?: string;
}

export interface Injection {
  readonly incident: IncidentName;
  readonly gpu?: number;
  readonly target?: string;
  /** Date.now() when it was injected. */
  readonly at: number;
}

/** Where each GPU incident lands by default: all of them at once hit different GPUs. */
const DEFAULT_GPU: Partial<Record<IncidentName, number>> = {
  'xid-fatal': 1,
  xid: 2,
  'ecc-uncorrectable': 3,
  'nvlink-errors': 4,
  'thermal-throttle': 5,
  'recovery-action': 6,
  'pcie-degraded': 0,
};

/**
 * Monthly budgets: an 8-GPU node costs about 9,000 USD a month (amortized hardware, running
 * costs, energy), so 50,000 leaves room. The cut is to 10: below what a node just started has
 * spent at any rate (the hourly rates the alert averages rise through the first hour).
 */
const HEALTHY_BUDGET_USD = 50_000;
const CUT_BUDGET_USD = 10;

const FLAP_PERIOD_MS = 4000;
const FLAPS = 8;

/**
 * A GPU node without a GPU: N fake GPUs behind the fake nvidia-smi and a simulated
 * dcgm-exporter, LLM runtimes under simulated load, a kernel log, runtime logs and the host's
 * procfs files, all under `dir` and on loopback; `agentConfig()` is the config that points the
 * real agent at them. Incidents are injected with `inject()` and cleared with `clear()`.
 */
export class SimulatedNode {
  readonly runtimes = new Map<string, SimulatedRuntime>();
  readonly kernelLog: string;
  readonly nvidiaSmiControl: string;
  readonly gpus: number;
  /** On a node of four GPUs or more, the last runs in MIG mode: the mixed node many sites have. */
  readonly migGpus: ReadonlySet<number>;
  private readonly procfs: SimulatedProcfs;
  /** The compute-apps list the fake nvidia-smi reports: the runtimes' GPU workers. */
  private appsFile = '';
  private readonly dcgm: SimulatedDcgmExporter;
  private dcgmUrl = '';
  private readonly random: Random;
  private readonly lost = new Set<number>();
  /** nvidia-smi control lines that stand until cleared (ECC). */
  private readonly gpuOverrides = new Map<number, string>();
  /** GPUs held back by heat, and since when (performance.now()). */
  private readonly throttledSince = new Map<number, number>();
  private hung = false;
  /** What the node may spend a month: well above its cost, until a `budget-cut`. */
  private monthlyBudgetUsd = HEALTHY_BUDGET_USD;
  /**
   * Writes the agent's config again and has it reloaded (set by whoever runs the agent): how a
   * config incident reaches it.
   */
  reconfigure: (() => void) | undefined;
  private readonly injections: Injection[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly ticker: NodeJS.Timeout;
  /** The proxied Ollama, its users, and the port of the proxy route they use. */
  readonly ollama: SimulatedOllama | undefined;
  private clients: ChatClients | undefined;
  private proxyPort = 0;
  private last = performance.now();
  private ticks = 0;

  private constructor(readonly options: NodeOptions) {
    this.gpus = options.gpus ?? 8;
    this.migGpus = new Set(this.gpus >= 4 ? [this.gpus - 1] : []);
    this.random = seededRandom(options.seed ?? 20261122);
    mkdirSync(options.dir, { recursive: true });
    this.kernelLog = join(options.dir, 'kernel.log');
    this.nvidiaSmiControl = join(options.dir, 'nvidia-smi.control');
    writeFileSync(this.kernelLog, '');
    this.procfs = new SimulatedProcfs(join(options.dir, 'proc'));
    for (const spec of options.runtimes ?? DEFAULT_RUNTIMES) {
      this.runtimes.set(
        spec.name,
        new SimulatedRuntime({
          kind: spec.kind,
          model: spec.model,
          random: this.random,
          ...(spec.requestsPerSecond !== undefined && {
            requestsPerSecond: spec.requestsPerSecond,
          }),
          ...(spec.maxConcurrency !== undefined && { maxConcurrency: spec.maxConcurrency }),
        }),
      );
      writeFileSync(this.runtimeLog(spec.name), '');
    }
    this.ollama = options.ollama
      ? new SimulatedOllama([options.ollama.model], {
          firstTokenMs: OLLAMA_FIRST_TOKEN_MS,
          tokenIntervalMs: 20,
          tokens: 48,
        })
      : undefined;
    this.dcgm = new SimulatedDcgmExporter({
      gpus: this.gpus,
      hostname: options.name,
      activity: (gpu) => this.activity(gpu),
      lost: () => this.lost,
      mig: this.migGpus,
    });
    this.tick();
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
  }

  static async start(options: NodeOptions): Promise<SimulatedNode> {
    const node = new SimulatedNode(options);
    await Promise.all([...node.runtimes.values()].map((r) => r.listen()));
    // The runtimes own their GPU processes: vLLM spans the first two GPUs, SGLang the next.
    let next = 0;
    node.appsFile = placeGpuProcesses(
      node.procfs,
      [...node.runtimes].map(([name, r], i) => {
        const span = i === 0 ? 2 : 1;
        const gpus = Array.from({ length: span }, () => next++ % node.gpus);
        return { name, kind: r.kind, port: Number(new URL(r.url).port), gpus };
      }),
      join(node.dir, 'compute-apps.csv'),
    );
    node.dcgmUrl = await node.dcgm.listen();
    if (node.ollama && options.ollama) {
      await node.ollama.listen();
      node.proxyPort = await freeLoopbackPort();
      // Refused until the agent (and its proxy) runs, as users of a node being set up are.
      node.clients = new ChatClients(
        `http://127.0.0.1:${node.proxyPort}`,
        options.ollama.model,
        options.ollama.requestsPerSecond,
      );
      node.clients.start();
    }
    return node;
  }

  get name(): string {
    return this.options.name;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** The agent's config for this node: every source pointed at the simulation, fast timings. */
  agentConfig(): string {
    const bin = (tool: string) => join(FAKE_BIN, tool);
    return stringify({
      log_level: 'info',
      collectors: {
        // Under Prometheus' 1 s scrape timeout, so a hung source costs its series, not the scrape.
        timeout_ms: 800,
        nvidia_smi: {
          command: bin('nvidia-smi'),
          interval_ms: 500,
          silence_intervals: 4,
          restart_backoff: { initial_ms: 1000, max_ms: 10_000 },
          processes: { interval_ms: 5000 },
        },
        dcgm: { url: this.dcgmUrl },
        kernel_events: { dmesg_command: bin('dmesg'), journalctl_command: bin('journalctl') },
        runtimes: {
          targets: [...this.runtimes].map(([name, r]) => ({ kind: r.kind, url: r.url, name })),
          discovery: { enabled: false },
          refresh_interval_s: 10,
        },
        runtime_logs: {
          sources: [...this.runtimes].map(([name, r]) => ({
            runtime: r.kind,
            target: name,
            path: this.runtimeLog(name),
          })),
          poll_interval_ms: 250,
        },
        host: { proc_path: join(this.dir, 'proc'), filesystem_paths: [this.dir] },
      },
      ...(this.ollama && {
        proxy: {
          routes: [
            {
              listen: `127.0.0.1:${this.proxyPort}`,
              upstream: this.ollama.url,
              runtime: 'ollama',
              name: OLLAMA_TARGET,
              max_concurrency: 4,
            },
          ],
        },
      }),
      probe: {
        interval_s: 5,
        // Room for a slow first token (the Ollama incident) without the probe failing.
        timeout_ms: this.ollama ? 3900 : 3000,
        stall_ms: 2000,
        backoff_max_s: 10,
        canary: { every_runs: 2 },
      },
      state_dir: join(this.dir, 'state'),
      // Quick enough for a demo: a change is evaluated 2 s after it holds, a case every 50 ms.
      evaluation: {
        settle_s: 2,
        case_interval_ms: 50,
        timeout_ms: 3000,
        max_run_s: 120,
        retry_after_s: 15,
        schedule: '',
      },
      cost: {
        // 40,000 USD a GPU: the node's cost follows its size.
        hardware: {
          capex_usd: 40_000 * this.gpus,
          residual_usd: 5_000 * this.gpus,
          amortization_months: 48,
        },
        operations_usd_per_month: 1500,
        facility_usd_per_month: 900,
        energy: { price_usd_per_kwh: 0.14, pue: 1.4 },
        requests_per_task: 3,
        monthly_budget_usd: this.monthlyBudgetUsd,
        // A frontier API's launch list price (what this node's models stand in for); local
        // serving at 2 requests a second per runtime is cheaper than it.
        api_references: [
          {
            name: 'gpt-4.1',
            input_usd_per_million: 2,
            output_usd_per_million: 8,
            as_of: '2025-04-14',
          },
        ],
      },
    });
  }

  /** The environment the agent runs in: it reaches the fake tools' state through it. */
  agentEnv(): Record<string, string> {
    return {
      FAKE_NVSMI_GPUS: String(this.gpus),
      FAKE_NVSMI_CONTROL: this.nvidiaSmiControl,
      FAKE_NVSMI_APPS: this.appsFile,
      FAKE_KLOG_FILE: this.kernelLog,
    };
  }

  runtimeLog(target: string): string {
    return join(this.dir, `${target}.log`);
  }

  /** The incidents injected since the last clear(). */
  active(): readonly Injection[] {
    return [...this.injections];
  }

  inject(incident: IncidentName, options: InjectOptions = {}): Injection {
    const info = INCIDENTS[incident];
    const at = Date.now();
    if (info.scope === 'gpu') {
      const gpu = options.gpu ?? DEFAULT_GPU[incident] ?? this.gpus - 1;
      if (!Number.isInteger(gpu) || gpu < 0 || gpu >= this.gpus)
        throw new RangeError(`no GPU ${gpu}: this node has GPUs 0 to ${this.gpus - 1}`);
      this.injectGpu(incident, gpu);
      return this.remember({ incident, gpu, at });
    }
    if (info.scope === 'runtime') {
      const ollamaFirst =
        this.ollama && (incident === 'slow-first-token' || this.runtimes.size === 0);
      const target =
        options.target ?? (ollamaFirst ? OLLAMA_TARGET : ([...this.runtimes.keys()][0] ?? ''));
      if (this.ollama && target === OLLAMA_TARGET) {
        this.injectOllama(incident, this.ollama);
        return this.remember({ incident, target, at });
      }
      const runtime = this.runtimes.get(target);
      if (!runtime)
        throw new RangeError(
          `no runtime '${target}': this node has ${[...this.runtimes.keys()].join(', ')}`,
        );
      this.injectRuntime(incident, target, runtime);
      return this.remember({ incident, target, at });
    }
    if (incident === 'host-oom') {
      this.procfs.oomKill();
      this.kernel(
        'Out of memory: Killed process 48213 (python3) total-vm:98765432kB, anon-rss:65432100kB, file-rss:10240kB, shmem-rss:0kB, UID:1000 pgtables:131072kB oom_score_adj:0',
      );
    } else if (incident === 'nvidia-smi-hang') {
      this.hung = true;
      this.writeControl();
    } else if (incident === 'budget-cut') {
      this.monthlyBudgetUsd = CUT_BUDGET_USD;
      this.reconfigure?.();
    }
    return this.remember({ incident, at });
  }

  /** Heals everything: GPUs back, runtimes up with their first model. Counters keep what happened. */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.lost.clear();
    this.gpuOverrides.clear();
    this.throttledSince.clear();
    this.hung = false;
    if (this.monthlyBudgetUsd !== HEALTHY_BUDGET_USD) {
      this.monthlyBudgetUsd = HEALTHY_BUDGET_USD;
      this.reconfigure?.();
    }
    this.dcgm.heal();
    for (const runtime of this.runtimes.values()) runtime.restore();
    if (this.ollama) this.ollama.behaviour.firstTokenMs = OLLAMA_FIRST_TOKEN_MS;
    this.injections.length = 0;
    this.writeControl();
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    for (const timer of this.timers) clearTimeout(timer);
    this.clients?.stop();
    await this.ollama?.close();
    await Promise.all([...this.runtimes.values()].map((r) => r.close()));
    await this.dcgm.close();
  }

  private remember(injection: Injection): Injection {
    this.injections.push(injection);
    return injection;
  }

  private injectGpu(incident: IncidentName, gpu: number): void {
    const bus = kernelBusOf(gpu);
    switch (incident) {
      case 'xid-fatal':
        return this.kernel(
          `NVRM: Xid (${bus}): 48, pid=31337, name=python3, An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 6, subpartition 0.`,
        );
      case 'xid':
        return this.kernel(
          `NVRM: Xid (${bus}): 13, pid=31337, name=python3, Graphics SM Warp Exception on (GPC 1, TPC 0, SM 0): Out Of Range Address`,
        );
      case 'gpu-lost':
        this.lost.add(gpu);
        this.writeControl();
        return this.kernel(
          `NVRM: Xid (${bus}): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.`,
        );
      case 'ecc-uncorrectable':
        this.gpuOverrides.set(
          gpu,
          'ecc.errors.uncorrected.volatile.dram=1 ecc.errors.uncorrected.volatile.total=1 ecc.errors.uncorrected.aggregate.dram=1 ecc.errors.uncorrected.aggregate.total=1',
        );
        return this.writeControl();
      case 'nvlink-errors':
        return this.dcgm.failNvlink(gpu);
      case 'recovery-action':
        this.gpuOverrides.set(gpu, 'gpu_recovery_action=GPU_Reset');
        return this.writeControl();
      case 'pcie-degraded':
        this.gpuOverrides.set(gpu, 'pcie.link.width.current=8');
        return this.writeControl();
      case 'thermal-throttle':
        this.throttledSince.set(gpu, performance.now());
        return this.writeControl();
      default:
        throw new Error(`${incident} is not a GPU incident`);
    }
  }

  /** Where the proxied Ollama's users reach it: the agent's route. */
  get proxyUrl(): string | undefined {
    return this.ollama ? `http://127.0.0.1:${this.proxyPort}` : undefined;
  }

  /** The served model of a runtime target, the proxied Ollama's included. */
  modelOf(target: string): string | undefined {
    if (this.ollama && target === OLLAMA_TARGET) return this.ollama.models[0];
    return this.runtimes.get(target)?.model;
  }

  private injectOllama(incident: IncidentName, ollama: SimulatedOllama): void {
    if (incident !== 'slow-first-token')
      throw new RangeError(`${incident} is not simulated for the proxied Ollama`);
    ollama.behaviour.firstTokenMs = OLLAMA_SLOW_FIRST_TOKEN_MS;
  }

  private injectRuntime(incident: IncidentName, target: string, runtime: SimulatedRuntime): void {
    switch (incident) {
      case 'slow-first-token':
        throw new RangeError(
          'slow-first-token is simulated for a proxied Ollama (a node started with one); a simulated vLLM or SGLang slows down under saturation',
        );
      case 'cuda-oom':
        return appendFileSync(this.runtimeLog(target), readFileSync(CUDA_OOM_LOG, 'utf8'));
      case 'saturation':
        runtime.engine.saturated = true;
        return;
      case 'runtime-errors':
        runtime.engine.failing = true;
        return;
      case 'wrong-answers':
        runtime.wrongAnswers = true;
        return;
      case 'model-swap':
        return runtime.swapModel('mistralai/Mistral-7B-Instruct-v0.3', 1.15);
      case 'quality-regression':
        return runtime.upgradeDegraded();
      case 'template-change':
        return runtime.changeTemplate(1.3);
      case 'runtime-flap':
        for (let i = 1; i <= FLAPS; i++) {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            runtime.down = i % 2 === 1;
          }, i * FLAP_PERIOD_MS);
          this.timers.add(timer);
        }
        return;
      default:
        throw new Error(`${incident} is not a runtime incident`);
    }
  }

  private kernel(line: string): void {
    appendFileSync(this.kernelLog, `${line}\n`);
  }

  /** How busy the GPUs are: they follow the runtimes' load. */
  private activity(gpu: number): GpuActivity {
    let running = 0;
    let capacity = 0;
    for (const runtime of this.runtimes.values()) {
      running += runtime.engine.running;
      capacity += runtime.engine.maxConcurrency;
    }
    const load = capacity === 0 ? 0 : running / capacity;
    const wobble = Math.sin(this.ticks / 7 + gpu) * 0.05;
    const utilization = Math.max(0, Math.min(1, 0.45 + 0.5 * load + wobble));
    return { utilization, powerWatts: 140 + 520 * utilization };
  }

  private tick(): void {
    const now = performance.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    this.ticks += 1;
    this.procfs.advance(seconds, 0.15 + 0.1 * this.activity(0).utilization);
    this.writeControl();
    if (this.ticks % 10 === 0) {
      for (const [name, runtime] of this.runtimes) {
        const e = runtime.engine;
        appendFileSync(
          this.runtimeLog(name),
          `INFO ${stamp()} [loggers.py:123] Engine 000: Running: ${e.running} reqs, Waiting: ${e.waiting} reqs, GPU KV cache usage: ${(e.kvCacheUsage * 100).toFixed(1)}%\n`,
        );
      }
    }
  }

  /** The fake nvidia-smi's control file: load-driven readings, then the incidents. */
  private writeControl(): void {
    const lines: string[] = [];
    if (this.hung) lines.push('hang');
    for (const gpu of this.lost) lines.push(`lose-gpu ${gpu}`);
    for (let gpu = 0; gpu < this.gpus; gpu++) {
      const { utilization, powerWatts } = this.activity(gpu);
      lines.push(
        `set ${gpu} utilization.gpu=${Math.round(utilization * 100)} power.draw=${powerWatts.toFixed(2)} power.draw.instant=${powerWatts.toFixed(2)} power.draw.average=${powerWatts.toFixed(2)} temperature.gpu=${Math.round(38 + 30 * utilization)}${this.options.fans ? ` fan.speed=${Math.round(30 + 50 * utilization)}_%` : ''}`,
      );
    }
    // Under MIG, nvidia-smi has no whole-GPU utilization to print.
    for (const gpu of this.migGpus)
      lines.push(`set ${gpu} mig.mode.current=Enabled utilization.gpu=[N/A]`);
    for (const [gpu, fields] of this.gpuOverrides) lines.push(`set ${gpu} ${fields}`);
    for (const [gpu, since] of this.throttledSince) {
      // The driver's counter of time spent slowed down, in microseconds: 90% of the time since.
      const micros = Math.round((performance.now() - since) * 1000 * 0.9);
      lines.push(
        `set ${gpu} temperature.gpu=92 clocks_event_reasons.active=0x0000000000000040 clocks_event_reasons.hw_thermal_slowdown=Active clocks_event_reasons_counters.hw_thermal_slowdown=${micros}`,
      );
    }
    // Replaced whole: the fake reads it every sample and must never see half of it.
    writeFileSync(`${this.nvidiaSmiControl}.tmp`, `${lines.join('\n')}\n`);
    renameSync(`${this.nvidiaSmiControl}.tmp`, this.nvidiaSmiControl);
  }
}

function stamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
