import { BackgroundRead } from '../../core/background-read.js';
import {
  CollectorError,
  failureOf,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import { isUnresponsive } from '../../core/http.js';
import type { Labels, MetricDef } from '../../core/metric.js';
import { GPU_XID_ERRORS } from '../kernel-events/metrics.js';
import { PAGED_XIDS } from '../kernel-events/parse.js';
import * as smi from '../nvidia-smi/metrics.js';
import type { CollectorDeps } from '../../shared/collector-factory.js';
import { DCGM_FIELDS } from './fields.js';
import { DCGM_ONLY_METRICS, MIG_INSTANCE_INFO } from './metrics.js';
import { parseDcgm, type DcgmGpu, type DcgmReading } from './parse.js';
import { DcgmXidEvents } from './xid-events.js';

export interface DcgmOptions {
  readonly url: string;
  /** Set in the config: a failure is a failure. Otherwise a failure before the first read means
   *  no dcgm-exporter runs here, which is not an error. */
  readonly configured: boolean;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  /** The last good read is served at most this long after it was read. */
  readonly maxStalenessMs: number;
}

const NAME = 'dcgm';
/** Where none answered, look again this often, not every scrape. */
const RECHECK_MS = 60_000;

/** Every family DCGM may write: its own, and nvidia-smi's for GPUs nvidia-smi does not stream. */
export const DCGM_METRICS: readonly MetricDef[] = [
  ...DCGM_ONLY_METRICS,
  smi.GPU_INFO,
  ...new Set(DCGM_FIELDS.filter((f) => f.shared).map((f) => f.metric)),
  smi.GPU_ENERGY,
  GPU_XID_ERRORS,
];

/**
 * GPU depth from a local dcgm-exporter's /metrics: SM, tensor and DRAM activity, PCIe and
 * NVLink traffic and errors, clock violation time, MIG instances. A scrape asks for a fresh
 * read and waits for it only until it must hand over; a slow or hung exporter is served from
 * its last good read, with its age. nvidia-smi speaks for every GPU it streams; DCGM fills
 * nvidia-smi's families only for GPUs it does not, and feeds the shared energy and Xid counters
 * (see GpuSources) once per read.
 */
export class DcgmCollector implements Collector {
  readonly name = NAME;
  readonly metrics = DCGM_METRICS;
  private readonly xidEvents = new DcgmXidEvents();
  private readonly reader: BackgroundRead<DcgmReading>;
  private seen = new Set<string>();
  private found = false;
  private lastLookMs: number | undefined;
  private absent: string | undefined;

  constructor(
    private readonly options: DcgmOptions,
    private readonly deps: CollectorDeps,
  ) {
    this.reader = new BackgroundRead((signal) => this.read(signal), {
      clock: deps.clock,
      timeoutMs: options.timeoutMs + 1000,
      settled: (outcome) => (outcome.ok ? this.took(outcome.value) : this.lost(outcome.error)),
      missed: () => this.deps.errors.count(NAME, 'slow'),
    });
  }

  async stop(): Promise<void> {
    this.reader.stop();
  }

  async collect(out: Emitter, handOver: AbortSignal): Promise<void> {
    const lookingFor = !this.options.configured && !this.found;
    if (lookingFor) {
      const now = this.deps.clock.monotonicMs();
      if (this.lastLookMs !== undefined && now - this.lastLookMs < RECHECK_MS) return;
      this.lastLookMs = now;
    }
    const inTime = await this.reader.refresh(handOver);
    // Not configured and never found: no dcgm-exporter runs here, which is not a failure.
    if (!this.found && !this.options.configured) return;
    const failure = this.reader.failure;
    const last = this.reader.last;
    // Busy is not down: an exporter that took the connection and did not answer in time is
    // served from its last good read; one that refused it or answered an error is not.
    const busy = failure === undefined || isUnresponsive(failure.error);
    const tooOld =
      !last || this.deps.clock.monotonicMs() - last.atMonotonicMs > this.options.maxStalenessMs;
    if (!busy || tooOld || !last) {
      const { reason, message } = failure
        ? failureOf(failure.error)
        : { reason: 'slow', message: 'no read finished in time' };
      throw new CollectorError(reason, message, { counted: true });
    }
    this.publish(out, last.value);
    if (!inTime || failure !== undefined) {
      const reason = failure ? 'unresponsive' : 'slow';
      out.lastGood(last.atEpochMs, reason, 'served from the last good read of dcgm-exporter');
    }
  }

  status(): SourceStatus {
    const failure = this.reader.failure;
    if (failure && (this.found || this.options.configured)) {
      const { reason, message } = failureOf(failure.error);
      return { state: 'failing', detail: `${reason}: ${message}` };
    }
    const last = this.reader.last;
    if (this.found && last) return { state: 'ok', detail: this.summarize(last.value) };
    if (this.absent)
      return {
        state: 'missing',
        detail:
          `no dcgm-exporter answers at ${this.options.url} (${this.absent}); SM, tensor and DRAM activity, ` +
          'NVLink and PCIe figures are off. Run dcgm-exporter, or set collectors.dcgm.url',
      };
    return { state: 'starting', detail: `not read yet (${this.options.url})` };
  }

  private async read(signal: AbortSignal): Promise<DcgmReading> {
    const response = await this.deps.http.get(this.options.url, {
      timeoutMs: this.options.timeoutMs,
      maxBytes: this.options.maxBodyBytes,
      headers: { accept: 'text/plain' },
      signal,
    });
    if (response.status !== 200)
      throw new CollectorError(`http_${response.status}`, `answered HTTP ${response.status}`);
    return parseDcgm(response.body);
  }

  /** A read came in: the counters it feeds advance, once per read. */
  private took(reading: DcgmReading): void {
    if (!this.found)
      this.deps.logger.info(
        { source: NAME, gpus: reading.gpus.size },
        `reading dcgm-exporter at ${this.options.url}`,
      );
    this.found = true;
    this.absent = undefined;
    this.deps.stateLog.ok(NAME);
    const { sources, inventory } = this.deps;
    for (const uuid of this.seen) {
      if (reading.gpus.has(uuid)) continue;
      sources.energy.dcgmLost(uuid);
      this.xidEvents.forget(uuid);
    }
    this.seen = new Set(reading.gpus.keys());
    const kernelLogReads = sources.kernelLogReads();
    for (const gpu of reading.gpus.values()) {
      if (!inventory.byUuid(gpu.uuid) && gpu.pciBusId)
        inventory.update([
          {
            gpu: gpu.gpu,
            uuid: gpu.uuid,
            gpuModel: gpu.model,
            pciBusId: gpu.pciBusId,
            driverVersion: gpu.driverVersion,
          },
        ]);
      if (gpu.energyJoules === undefined) sources.energy.dcgmLost(gpu.uuid);
      else sources.energy.dcgm(gpu.uuid, gpu.energyJoules);
      const events = this.xidEvents.events(gpu);
      if (kernelLogReads) continue;
      const identity = this.identityOf(gpu);
      for (const [xid, count] of events) sources.xids.count(identity, xid, count);
      for (const xid of PAGED_XIDS) sources.xids.ensure(identity, xid);
    }
  }

  private lost(error: unknown): void {
    for (const uuid of this.seen) this.deps.sources.energy.dcgmLost(uuid);
    this.seen = new Set();
    this.xidEvents.forget();
    const { reason, message } = failureOf(error);
    if (!this.options.configured && !this.found) {
      if (this.absent === undefined)
        this.deps.logger.info(
          { source: NAME, reason },
          `no dcgm-exporter at ${this.options.url} (${message}); DCGM-only metrics are off`,
        );
      this.absent = `${reason}: ${message}`;
      return;
    }
    this.deps.errors.count(NAME, isUnresponsive(error) ? 'unresponsive' : reason);
    this.deps.stateLog.failing(NAME, reason, `dcgm-exporter at ${this.options.url}: ${message}`);
  }

  private identityOf(gpu: DcgmGpu) {
    const known = this.deps.inventory.byUuid(gpu.uuid);
    return {
      gpu: known?.gpu ?? gpu.gpu,
      uuid: gpu.uuid,
      gpuModel: known?.gpuModel ?? gpu.model,
      pciBusId: known?.pciBusId ?? gpu.pciBusId ?? '',
    };
  }

  private publish(out: Emitter, reading: DcgmReading): void {
    const { sources } = this.deps;
    for (const gpu of reading.gpus.values()) {
      const identity = this.identityOf(gpu);
      const labels = { gpu: identity.gpu, uuid: gpu.uuid, gpu_model: identity.gpuModel };
      const nvidiaSmiReads = sources.nvidiaSmiReads(gpu.uuid);
      for (const [field, value] of gpu.values) {
        if (field.shared && nvidiaSmiReads) continue;
        out.emit(field.metric, withLabels(labels, field.labels), value);
      }
      for (const instance of gpu.migInstances.values()) {
        const at = { ...labels, gpu_instance: instance.id, mig_profile: instance.profile };
        out.emit(MIG_INSTANCE_INFO, at, 1);
        for (const [field, value] of instance.values) if (field.mig) out.emit(field.mig, at, value);
      }
      if (!nvidiaSmiReads) this.publishInstead(out, gpu, labels, identity.pciBusId);
    }
    if (!sources.kernelLogReads()) {
      for (const { labels, value } of sources.xids.entries())
        out.emit(GPU_XID_ERRORS, labels, value);
    }
  }

  /** What doctor says of the last good read: what it holds, and who speaks for what. */
  private summarize(reading: DcgmReading): string {
    const { sources } = this.deps;
    const spokenFor = [...reading.gpus.keys()].filter((uuid) => sources.nvidiaSmiReads(uuid));
    return summarize(this.options.url, reading, spokenFor.length, sources.kernelLogReads());
  }

  /** nvidia-smi's identity and energy series, for a GPU nvidia-smi does not stream. */
  private publishInstead(out: Emitter, gpu: DcgmGpu, labels: Labels, pciBusId: string): void {
    out.emit(
      smi.GPU_INFO,
      {
        ...labels,
        driver_version: gpu.driverVersion ?? '',
        cuda_version: '',
        pci_bus_id: pciBusId,
        vbios_version: '',
        compute_cap: '',
        mig_mode: gpu.migInstances.size > 0 ? 'Enabled' : '',
        persistence_mode: '',
      },
      1,
    );
    const joules = this.deps.sources.energy.total(gpu.uuid);
    if (joules !== undefined) out.emit(smi.GPU_ENERGY, labels, joules);
  }
}

function withLabels(base: Labels, extra: Labels): Labels {
  return Object.keys(extra).length === 0 ? base : { ...base, ...extra };
}

function summarize(
  url: string,
  reading: DcgmReading,
  spokenFor: number,
  kernelLogReads: boolean,
): string {
  const families = new Set<string>();
  let instances = 0;
  for (const gpu of reading.gpus.values()) {
    for (const field of gpu.values.keys()) if (!field.shared) families.add(field.metric.name);
    for (const instance of gpu.migInstances.values())
      for (const field of instance.values.keys())
        if (!field.shared) families.add(field.metric.name);
    instances += gpu.migInstances.size;
  }
  const profiling = [...families].some((n) => n.endsWith('_active_ratio'));
  const { blank, conflicting } = reading.skipped;
  const left = [blank && `${blank} blank`, conflicting && `${conflicting} conflicting`].filter(
    Boolean,
  );
  return (
    `${reading.gpus.size} GPU(s) at ${url}; ${families.size} DCGM-only famil${families.size === 1 ? 'y' : 'ies'}` +
    (profiling ? '' : ' (no profiling fields: enable DCGM_FI_PROF_* in its counters CSV)') +
    (instances ? `; ${instances} MIG instance(s)` : '') +
    (spokenFor ? `; nvidia-smi speaks for ${spokenFor} of them` : '') +
    (kernelLogReads ? '' : '; Xid errors from DCGM (the kernel log cannot be read)') +
    (left.length ? `; left out: ${left.join(', ')} series` : '')
  );
}
