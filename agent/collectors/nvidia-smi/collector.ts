import type { Clock } from '../../core/clock.js';
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
import { normalizeBusId, type GpuInventory } from '../../shared/gpu-inventory.js';
import type { GpuSources } from '../../shared/gpu-sources.js';
import { StreamSupervisor, type Backoff, type Launch } from '../../core/supervisor.js';
import { Waiters } from '../../core/waiters.js';
import { EnergyIntegrator } from './energy.js';
import type { Labels } from '../../core/metric.js';
import { METRIC_FIELDS, type MetricField } from './fields.js';
import * as m from './metrics.js';
import { parseGpuLine, queryArgs, RoundAssembler, type GpuRow } from './parse.js';
import { checkFields, type FieldCheck } from './field-check.js';

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
  readonly logger: Logger;
  readonly errors: SourceErrors;
  readonly stateLog: StateLog;
  readonly inventory: GpuInventory;
  readonly sources: GpuSources;
}

const NAME = 'nvidia_smi';
const MAX_LINE_BYTES = 64 * 1024;

export const GPU_METRICS = [
  m.GPU_INFO,
  m.GPU_COUNT,
  ...new Set(METRIC_FIELDS.map((f) => f.metric)),
  m.GPU_ENERGY,
];

/**
 * GPU metrics from one long-lived `nvidia-smi --query-gpu ... -lms N`. Scrapes read the last
 * complete sample; the moment the stream exits, falls silent or reports a driver error that
 * sample is dropped, the failure is counted, and the stream restarts with backoff.
 */
export class NvidiaSmiCollector implements Collector {
  readonly name = NAME;
  readonly metrics = GPU_METRICS;
  private readonly supervisor: StreamSupervisor;
  private readonly assembler = new RoundAssembler((rows) => this.onRound(rows));
  private readonly energy: EnergyIntegrator;
  private readonly warnings: RateLimitedWarning;
  private fields: FieldCheck | undefined;
  private snapshot: GpuSnapshot | undefined;
  private down: { reason: string; detail: string } | undefined;
  private unavailable = new Map<string, string>();
  private readonly waiters = new Waiters();
  private readonly labelCache = new Map<
    string,
    { base: Labels; byField: Map<MetricField, Labels> }
  >();

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
    out.emit(m.GPU_COUNT, {}, snapshot.rows.length);
    for (const row of snapshot.rows) this.emitRow(out, row);
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
    if (this.down?.reason === 'not_found') {
      return { state: 'missing', detail: `${this.options.command} not found on PATH` };
    }
    if (this.down) return { state: 'failing', detail: `${this.down.reason}: ${this.down.detail}` };
    return { state: 'starting', detail: 'waiting for the first sample' };
  }

  private async prepare(signal: AbortSignal): Promise<Launch> {
    this.fields ??= await checkFields(
      this.deps.runner,
      this.options.command,
      this.options.startTimeoutMs,
      signal,
    );
    return {
      command: this.options.command,
      args: queryArgs(this.fields.selection, this.options.intervalMs),
    };
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
      const watts = row.values.find((v) => v.field.metric === m.GPU_POWER_DRAW)?.value;
      if (watts === undefined) continue;
      this.energy.observe(row.uuid, watts, now);
      const joules = this.energy.joules(row.uuid);
      if (joules !== undefined) this.deps.sources.energy.integrated(row.uuid, joules);
    }
    this.deps.sources.setNvidiaSmi(rows.map((r) => r.uuid));
    // A GPU that streams again (after a reset) is no longer unavailable.
    for (const row of rows)
      this.unavailable.delete(normalizeBusId(row.identity.pciBusId ?? '') ?? '');
    this.snapshot = { rows, atMs: now, unavailable: [...this.unavailable.values()] };
    this.deps.inventory.update(
      rows.flatMap((r) => {
        const pciBusId = normalizeBusId(r.identity.pciBusId ?? '');
        return pciBusId
          ? [
              {
                gpu: r.index,
                uuid: r.uuid,
                gpuModel: r.identity.name ?? '',
                pciBusId,
                driverVersion: r.identity.driverVersion,
              },
            ]
          : [];
      }),
    );
    this.down = undefined;
    this.deps.stateLog.ok(NAME);
    this.supervisor.markHealthy();
    this.waiters.wakeAll();
  }

  private onDown(reason: string, detail: string): void {
    this.snapshot = undefined;
    this.deps.sources.setNvidiaSmi([]);
    this.assembler.reset();
    this.unavailable = new Map();
    this.down = { reason, detail };
    // A missing binary may be installed later, but the field check must run again on a new driver.
    if (reason === 'not_found' || reason === 'driver_error') this.fields = undefined;
    this.deps.errors.count(NAME, reason);
    // Logged as it happens, not at the next scrape: nobody may be scraping yet.
    this.deps.stateLog.failing(NAME, reason, detail);
    this.waiters.wakeAll();
  }

  /** Label sets per GPU and field, built once: they change only with the GPU's identity. */
  private labelsFor(row: GpuRow): { base: Labels; byField: Map<MetricField, Labels> } {
    const key = `${row.index}\u0000${row.uuid}\u0000${row.identity.name ?? ''}`;
    let entry = this.labelCache.get(key);
    if (!entry) {
      const base = { gpu: row.index, uuid: row.uuid, gpu_model: row.identity.name ?? '' };
      entry = { base, byField: new Map(METRIC_FIELDS.map((f) => [f, { ...base, ...f.labels }])) };
      if (this.labelCache.size > 1024) this.labelCache.clear();
      this.labelCache.set(key, entry);
    }
    return entry;
  }

  private emitRow(out: Emitter, row: GpuRow): void {
    const { base: labels, byField } = this.labelsFor(row);
    const id = row.identity;
    out.emit(
      m.GPU_INFO,
      {
        ...labels,
        driver_version: id.driverVersion ?? '',
        cuda_version: this.fields?.cudaVersion ?? '',
        pci_bus_id: id.pciBusId ?? '',
        vbios_version: id.vbiosVersion ?? '',
        compute_cap: id.computeCap ?? '',
        mig_mode: id.migMode ?? '',
        persistence_mode: id.persistenceMode ?? '',
      },
      1,
    );
    for (const { field, value } of row.values) {
      out.emit(field.metric, byField.get(field) ?? labels, value);
    }
    const joules = this.deps.sources.energy.total(row.uuid);
    if (joules !== undefined) out.emit(m.GPU_ENERGY, labels, joules);
  }
}
