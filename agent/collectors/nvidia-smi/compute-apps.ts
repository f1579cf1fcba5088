import { nvidiaSmiTodo } from './todo.js';
import {
  CollectorError,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import type { TimerHandle } from '../../core/clock.js';
import { RateLimitedWarning } from '../../core/state-log.js';
import { StreamSupervisor, type Backoff } from '../../core/supervisor.js';
import { Waiters } from '../../core/waiters.js';
import type { Deps, GpuSnapshot } from './collector.js';
import type { NodePods } from '../../shared/node-pods.js';
import type { RuntimeEndpoints } from '../../shared/runtime-endpoints.js';
import { GPU_PROCESS_MEMORY_USED } from './metrics.js';
import { COMPUTE_APPS_FIELDS, parseComputeAppLine, type ComputeApp } from './parse.js';
import type { ProcessOwners } from './process-owners.js';

export interface ComputeAppsOptions {
  readonly command: string;
  readonly intervalMs: number;
  readonly startTimeoutMs: number;
  readonly backoff: Backoff;
  /** Says which runtime owns each process; absent when attribution is off. */
  readonly owners?: ProcessOwners;
  readonly endpoints: RuntimeEndpoints;
  /** This node's pods, in a cluster: each process is labelled with its own. */
  readonly pods?: NodePods;
}

const NAME = 'nvidia_smi_processes';
/** Rows of one loop arrive together; this much quiet after the last one ends the loop. */
const LOOP_QUIET_MS = 250;
/** No row this long after a start: nvidia-smi has no processes to list. */
const FIRST_LOOP_MS = 3000;

/**
 * Per-process GPU memory from one long-lived `nvidia-smi --query-compute-apps ... -lms N`.
 * nvidia-smi prints nothing at all for a loop without processes, so silence is a valid answer
 * here: no silence watchdog, an empty list after a loop's worth of quiet, and the GPU
 * stream's health (the same driver) vouches for this one.
 */
export class ComputeAppsCollector implements Collector {
  readonly name = NAME;
  readonly metrics = [GPU_PROCESS_MEMORY_USED];
  private readonly supervisor: StreamSupervisor;
  private readonly warnings: RateLimitedWarning;
  private loop: { timestamp: string; apps: ComputeApp[] } | undefined;
  private apps: readonly ComputeApp[] | undefined;
  private down: { reason: string; detail: string } | undefined;
  private quietTimer: TimerHandle | undefined;
  private emptyTimer: TimerHandle | undefined;
  private readonly waiters = new Waiters();

  constructor(
    private readonly options: ComputeAppsOptions,
    /** The GPU stream's latest complete sample, for the GPUs' labels. */
    private readonly currentGpus: () => GpuSnapshot | undefined,
    private readonly deps: Deps,
  ) {
    this.warnings = new RateLimitedWarning(deps.logger, 60_000, () => deps.clock.monotonicMs());
    this.supervisor = new StreamSupervisor(deps.runner, {
      now: () => deps.clock.monotonicMs(),
      timers: deps.timers,
      prepare: async () => {
        this.armEmptyTimer(Math.min(options.startTimeoutMs, FIRST_LOOP_MS));
        return {
          command: options.command,
          args: [
            `--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`,
            '--format=csv,noheader,nounits',
            '-lms',
            String(options.intervalMs),
          ],
        };
      },
      firstLineMs: Infinity,
      silenceMs: Infinity,
      backoff: options.backoff,
      stableAfterMs: Math.max(30_000, 3 * options.intervalMs),
      maxLineBytes: 64 * 1024,
      onLine: (line) => this.onLine(line),
      onOversizeLine: () => this.deps.errors.count(NAME, 'bad_line'),
      onDown: (reason, detail) => this.onDown(reason, detail),
    });
  }

  async start(): Promise<void> {
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    this.clear(this.quietTimer);
    this.clear(this.emptyTimer);
    await this.supervisor.stop();
    this.waiters.wakeAll();
  }

  ready(timeoutMs: number): Promise<void> {
    if (this.apps || this.down) return Promise.resolve();
    return this.waiters.wait(timeoutMs);
  }

  collect(out: Emitter): void {
    if (this.down) throw new CollectorError(this.down.reason, this.down.detail, { counted: true });
    const gpus = this.currentGpus();
    if (!gpus) throw new CollectorError('no_gpu_data', 'the GPU stream has no current sample');
    if (!this.apps)
      throw new CollectorError('starting', 'waiting for the first process list', { counted: true });
    const byUuid = new Map(gpus.rows.map((r) => [r.uuid, r]));
    // One process on two MIG instances of a GPU is two rows with the parent's UUID: add them up.
    const totals = new Map<string, { app: ComputeApp; bytes: number }>();
    for (const app of this.apps) {
      if (app.usedBytes === undefined) continue;
      const key = `${app.uuid}/${app.pid}`;
      const entry = totals.get(key);
      if (entry) entry.bytes += app.usedBytes;
      else totals.set(key, { app, bytes: app.usedBytes });
    }
    for (const { app, bytes } of totals.values()) {
      const gpu = byUuid.get(app.uuid);
      const owner = this.options.owners?.owner(app.pid);
      const place = this.options.owners?.place(app.pid);
      out.emit(
        GPU_PROCESS_MEMORY_USED,
        {
          gpu: gpu?.index ?? '',
          uuid: app.uuid,
          gpu_model: gpu?.identity.name ?? '',
          pid: app.pid,
          process: app.process,
          runtime: owner?.runtime ?? '',
          target: owner?.target ?? '',
          ...(place
            ? { namespace: place.namespace, pod: place.pod, container: place.container }
            : {}),
        },
        bytes,
      );
    }
  }

  status(): SourceStatus {
    if (this.down) {
      const todo = nvidiaSmiTodo(this.down.reason, this.options.command);
      if (this.down.reason === 'not_found')
        return { state: 'missing', detail: `${this.options.command} not found on PATH`, todo };
      return { state: 'failing', detail: `${this.down.reason}: ${this.down.detail}`, todo };
    }
    if (!this.apps) return { state: 'starting', detail: 'waiting for the first process list' };
    return {
      state: 'ok',
      detail:
        `${this.apps.length} compute process(es); sampling every ${this.options.intervalMs} ms` +
        this.attribution(),
    };
  }

  private onLine(line: string): void {
    const parsed = parseComputeAppLine(line);
    switch (parsed.kind) {
      case 'app':
        if (this.loop && this.loop.timestamp !== parsed.timestamp) this.endLoop();
        this.loop ??= { timestamp: parsed.timestamp, apps: [] };
        this.loop.apps.push(parsed.app);
        this.clear(this.quietTimer);
        this.quietTimer = this.deps.timers.setTimeout(() => this.endLoop(), LOOP_QUIET_MS);
        return;
      case 'driver_error':
        this.supervisor.restart('driver_error', parsed.message);
        return;
      case 'garbage':
        this.deps.errors.count(NAME, 'bad_line');
        this.warnings.warn(
          { source: NAME, why: parsed.why },
          'skipped a line that is not a process row',
        );
        return;
      case 'blank':
        return;
    }
  }

  private endLoop(): void {
    this.clear(this.quietTimer);
    if (!this.loop) return;
    this.apps = this.loop.apps;
    this.loop = undefined;
    this.attribute(this.apps);
    this.down = undefined;
    this.deps.stateLog.ok(NAME);
    this.supervisor.markHealthy();
    this.waiters.wakeAll();
    this.armEmptyTimer(this.options.intervalMs * 1.5);
  }

  /** Looks up, in the background, which runtime owns each process; scrapes read the answer. */
  private attribute(apps: readonly ComputeApp[]): void {
    const owners = this.options.owners;
    if (!owners) return;
    const pids = [...new Set(apps.map((a) => a.pid))];
    owners
      .refresh(pids, this.options.endpoints.current, this.options.pods?.current)
      .catch((error: unknown) => {
        this.warnings.warn(
          { source: NAME, error: error instanceof Error ? error.message : String(error) },
          'could not tell which runtime owns the GPU processes',
        );
      });
  }

  private attribution(): string {
    const owners = this.options.owners;
    if (!owners || !this.apps?.length || this.options.endpoints.current.length === 0) return '';
    const owned = this.apps.filter((a) => owners.owner(a.pid)).length;
    const unreadable = owners.unreadable
      ? ` (${owners.unreadable} process(es) whose open files the agent may not read: run it as root or with CAP_SYS_PTRACE to see other users' runtimes)`
      : '';
    return `; ${owned} of them tied to a runtime${unreadable}`;
  }

  private clear(timer: TimerHandle | undefined): void {
    if (timer) this.deps.timers.clearTimeout(timer);
  }

  /** No rows for a loop and a half: nvidia-smi has no compute processes to list. */
  private armEmptyTimer(ms: number): void {
    this.clear(this.emptyTimer);
    this.emptyTimer = this.deps.timers.setTimeout(() => {
      if (this.supervisor.state !== 'running' || this.loop) return;
      this.apps = [];
      this.down = undefined;
      this.waiters.wakeAll();
      this.armEmptyTimer(this.options.intervalMs * 1.5);
    }, ms);
  }

  private onDown(reason: string, detail: string): void {
    this.clear(this.quietTimer);
    this.clear(this.emptyTimer);
    this.loop = undefined;
    this.apps = undefined;
    this.down = { reason, detail };
    this.deps.errors.count(NAME, reason);
    this.deps.stateLog.failing(NAME, reason, detail, nvidiaSmiTodo(reason, this.options.command));
    this.waiters.wakeAll();
  }
}
