import { nvidiaSmiTodo } from './todo.js';
import type { Clock, Timers } from '../../core/clock.js';
import {
  CollectorError,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import type { ProcessRunner } from '../../core/exec.js';
import type { Logger } from '../../core/logger.js';
import type { SourceErrors } from '../../core/self-metrics.js';
import { RateLimitedWarning, type StateLog } from '../../core/state-log.js';
import { normalizeBusId } from '../../shared/bus-id.js';
import * as gpus from '../../shared/gpu-metrics.js';
import { GPU_REPORTS, type GpuSighting } from '../../shared/gpu-report.js';
import { StreamSupervisor, type Backoff, type Launch } from '../../core/supervisor.js';
import { Waiters } from '../../core/waiters.js';
import { EnergyIntegrator } from './energy.js';
import { METRIC_FIELDS } from './fields.js';
import { GPU_COUNT } from './metrics.js';
import { parseGpuLine, queryArgs, RoundAssembler, type GpuRow } from './parse.js';
import { checkFields, type FieldCheck } from './field-check.js';
import { parseMigList } from './mig-list.js';
import type { GpuFacts } from '../../shared/gpu-facts.js';

export interface NvidiaSmiOptions {
  readonly command: string;
  readonly intervalMs: number;
  /** Silence for this many intervals means nvidia-smi is wedged. */
  readonly silenceIntervals: number;
  /** Time allowed for the field check and the first sample (slow without persistence mode). */
  readonly startTimeoutMs: number;
  readonly backoff: Backoff;
}

export interface GpuSnapshot {
  readonly rows: readonly GpuRow[];
  readonly atMs: number;
  /** GPUs nvidia-smi could not reach ("Unable to determine the device handle ..."). */
  readonly unavailable: readonly string[];
}

export interface Deps {
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly errors: SourceErrors;
  readonly stateLog: StateLog;
  /** Where the MIG devices listed go, for the sources that place a device on its GPU. */
  readonly gpuFacts?: GpuFacts;
}

/** `nvidia-smi -L` of a node: a line per GPU and MIG device. */
const MIG_LIST_MAX_BYTES = 256 * 1024;
const NAME = 'nvidia_smi';
const MAX_LINE_BYTES = 64 * 1024;

/** The per-GPU families nvidia-smi reads, which the GPU view writes. */
export const GPU_FEEDS = [
  gpus.GPU_INFO,
  ...new Set(METRIC_FIELDS.map((f) => f.metric)),
  gpus.GPU_ENERGY,
];

/**
 * GPU metrics from one long-lived `nvidia-smi --query-gpu ... -lms N`. Scrapes hand the last
 * complete sample to the GPU view; the moment the stream exits, falls silent or reports a
 * driver error that sample is dropped, the failure is counted, and the stream restarts with
 * backoff.
 */
export class NvidiaSmiCollector implements Collector {
  readonly name = NAME;
  readonly metrics = [GPU_COUNT];
  private readonly supervisor: StreamSupervisor;
  private readonly assembler = new RoundAssembler((rows) => this.onRound(rows));
  private readonly energy: EnergyIntegrator;
  private readonly warnings: RateLimitedWarning;
  private fields: FieldCheck | undefined;
  private snapshot: GpuSnapshot | undefined;
  private down: { reason: string; detail: string } | undefined;
  private unavailable = new Map<string, string>();
  private readonly waiters = new Waiters();

  constructor(
    private readonly options: NvidiaSmiOptions,
    private readonly deps: Deps,
  ) {
    this.energy = new EnergyIntegrator(options.intervalMs * 5);
    this.warnings = new RateLimitedWarning(deps.logger, 60_000, () => deps.clock.monotonicMs());
    this.supervisor = new StreamSupervisor(deps.runner, {
      prepare: (signal) => this.prepare(signal),
      firstLineMs: options.startTimeoutMs,
      silenceMs: options.intervalMs * options.silenceIntervals,
      backoff: options.backoff,
      stableAfterMs: Math.max(10_000, 10 * options.intervalMs),
      now: () => deps.clock.monotonicMs(),
      timers: deps.timers,
      maxLineBytes: MAX_LINE_BYTES,
      onLine: (line) => this.onLine(line),
      onOversizeLine: () => this.badLine('a line over 64 KiB'),
      onDown: (reason, detail) => this.onDown(reason, detail),
    });
  }

  /** The latest complete sample, for the per-process collector's labels. */
  get current(): GpuSnapshot | undefined {
    return this.snapshot;
  }

  async start(): Promise<void> {
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
    this.waiters.wakeAll();
  }

  ready(timeoutMs: number): Promise<void> {
    if (this.snapshot || this.down) return Promise.resolve();
    return this.waiters.wait(timeoutMs);
  }

  collect(out: Emitter): void {
    const snapshot = this.snapshot;
    if (!snapshot) {
      const down = this.down ?? { reason: 'starting', detail: 'waiting for the first sample' };
      throw new CollectorError(down.reason, down.detail, { counted: true });
    }
    const ageMs = this.deps.clock.monotonicMs() - snapshot.atMs;
    // A safety net behind the watchdog, which drops the sample first, at silence_intervals.
    const staleMs = this.options.intervalMs * (this.options.silenceIntervals + 1);
    if (ageMs > staleMs) {
      throw new CollectorError('stale', `last sample is ${Math.round(ageMs)} ms old`);
    }
    out.emit(GPU_COUNT, {}, snapshot.rows.length);
    out.report(GPU_REPORTS, {
      reader: 'nvidia_smi',
      gpus: snapshot.rows.map((r) => this.sightingOf(r)),
    });
    if (snapshot.unavailable.length > 0) {
      out.degrade('gpu_unavailable', snapshot.unavailable.join('; '));
    }
  }

  status(): SourceStatus {
    if (this.snapshot) {
      const models = [...new Set(this.snapshot.rows.map((r) => r.identity.name ?? 'unknown'))];
      const driver = this.snapshot.rows[0]?.identity.driverVersion ?? 'unknown';
      const dropped = this.fields?.dropped.length
        ? `; fields this driver lacks: ${this.fields.dropped.join(', ')}`
        : '';
      const noPersistence = this.snapshot.rows.filter(
        (r) => r.identity.persistenceMode === 'Disabled',
      );
      const persistence = noPersistence.length
        ? `; persistence mode is off on GPU ${noPersistence.map((r) => r.index).join(', ')} (nvidia-smi starts slowly; run nvidia-persistenced)`
        : '';
      return {
        state: this.snapshot.unavailable.length ? 'failing' : 'ok',
        detail:
          `${this.snapshot.rows.length} GPU(s): ${models.join(', ')}; driver ${driver}, ` +
          `CUDA ${this.fields?.cudaVersion ?? 'unknown'}; sampling every ${this.options.intervalMs} ms` +
          dropped +
          persistence +
          (this.snapshot.unavailable.length ? `; ${this.snapshot.unavailable.join('; ')}` : ''),
      };
    }
    if (this.down) {
      const todo = nvidiaSmiTodo(this.down.reason, this.options.command);
      if (this.down.reason === 'not_found')
        return { state: 'missing', detail: `${this.options.command} not found on PATH`, todo };
      return { state: 'failing', detail: `${this.down.reason}: ${this.down.detail}`, todo };
    }
    return { state: 'starting', detail: 'waiting for the first sample' };
  }

  private async prepare(signal: AbortSignal): Promise<Launch> {
    this.fields ??= await checkFields(
      this.deps.runner,
      this.options.command,
      this.options.startTimeoutMs,
      signal,
    );
    await this.listMigDevices(signal);
    return {
      command: this.options.command,
      args: queryArgs(this.fields.selection, this.options.intervalMs),
    };
  }

  /**
   * The MIG devices under each GPU (`nvidia-smi -L`), at every start of the stream: a MIG
   * layout changes only with a GPU reset, which restarts it. Best effort: without them a MIG
   * device held by a pod is not placed on its GPU.
   */
  private async listMigDevices(signal: AbortSignal): Promise<void> {
    try {
      const listed = await this.deps.runner.run(this.options.command, ['-L'], {
        timeoutMs: this.options.startTimeoutMs,
        maxBytes: MIG_LIST_MAX_BYTES,
        signal,
      });
      if (listed.exitCode !== 0) return;
      const devices = parseMigList(listed.stdout);
      this.deps.gpuFacts?.setMigParents(new Map([...devices].map(([id, d]) => [id, d.gpuUuid])));
    } catch {
      // nvidia-smi missing or hung: the stream's own start reports it.
    }
  }

  private onLine(line: string): void {
    if (!this.fields) return;
    const parsed = parseGpuLine(line, this.fields.selection);
    switch (parsed.kind) {
      case 'row':
        if (parsed.row.badValues > 0) {
          this.deps.errors.count(NAME, 'bad_value', parsed.row.badValues);
          this.warnings.warn(
            { gpu: parsed.row.index },
            'nvidia-smi printed a value that is not a number',
          );
        }
        this.assembler.push(parsed.row);
        return;
      case 'gpu_unavailable': {
        // Wherever the line comes (before the rows, among them, after them, every loop or
        // once), the other GPUs go on streaming: this one stays out of the exposition and the
        // collector reports it. Restarting would blank every GPU while the one stays lost.
        const reason = parsed.lost ? 'gpu_lost' : 'gpu_unavailable';
        const key = normalizeBusId(parsed.busId) ?? parsed.busId;
        if (!this.unavailable.has(key)) {
          this.unavailable.set(key, parsed.message);
          this.deps.errors.count(NAME, reason);
          this.deps.logger.warn({ source: NAME, bus_id: parsed.busId }, parsed.message);
        }
        return;
      }
      case 'driver_error':
        this.supervisor.restart('driver_error', parsed.message);
        return;
      case 'garbage':
        this.badLine(parsed.why);
        return;
      case 'blank':
        return;
    }
  }

  private badLine(why: string): void {
    this.deps.errors.count(NAME, 'bad_line');
    this.warnings.warn(
      { source: NAME, why },
      'skipped a line nvidia-smi printed that is not a GPU row',
    );
  }

  private onRound(rows: readonly GpuRow[]): void {
    const now = this.deps.clock.monotonicMs();
    for (const row of rows) {
      const watts = row.values.find((v) => v.field.metric === gpus.GPU_POWER_DRAW)?.value;
      if (watts !== undefined) this.energy.observe(row.uuid, watts, now);
    }
    // A GPU that streams again (after a reset) is no longer unavailable.
    for (const row of rows)
      this.unavailable.delete(normalizeBusId(row.identity.pciBusId ?? '') ?? '');
    this.snapshot = {
      rows,
      atMs: now,
      unavailable: [...this.unavailable.values()],
    };
    this.down = undefined;
    this.deps.stateLog.ok(NAME);
    this.supervisor.markHealthy();
    this.waiters.wakeAll();
  }

  private onDown(reason: string, detail: string): void {
    this.snapshot = undefined;
    this.assembler.reset();
    this.unavailable = new Map();
    this.down = { reason, detail };
    // A missing binary may be installed later, but the field check must run again on a new driver.
    if (reason === 'not_found' || reason === 'driver_error') this.fields = undefined;
    this.deps.errors.count(NAME, reason);
    // Logged as it happens, not at the next scrape: nobody may be scraping yet.
    this.deps.stateLog.failing(NAME, reason, detail, nvidiaSmiTodo(reason, this.options.command));
    this.waiters.wakeAll();
  }

  private sightingOf(row: GpuRow): GpuSighting {
    const id = row.identity;
    return {
      uuid: row.uuid,
      index: row.index,
      model: id.name ?? '',
      pciBusId: normalizeBusId(id.pciBusId ?? '') ?? '',
      info: {
        driver_version: id.driverVersion ?? '',
        cuda_version: this.fields?.cudaVersion ?? '',
        pci_bus_id: id.pciBusId ?? '',
        vbios_version: id.vbiosVersion ?? '',
        compute_cap: id.computeCap ?? '',
        mig_mode: id.migMode ?? '',
        persistence_mode: id.persistenceMode ?? '',
      },
      figures: row.values.map(({ field, value }) => ({
        metric: field.metric,
        labels: field.labels,
        value,
      })),
      energyJoules: this.energy.joules(row.uuid),
    };
  }
}
