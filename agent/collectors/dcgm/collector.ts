import {
  CollectorError,
  failureOf,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import type { Labels, MetricDef } from '../../core/metric.js';
import { GPU_XID_ERRORS } from '../kernel-events/metrics.js';
import { PAGED_XIDS } from '../kernel-events/parse.js';
import * as smi from '../nvidia-smi/metrics.js';
import type { CollectorDeps } from '../registry.js';
import { DCGM_FIELDS } from './fields.js';
import { DCGM_ONLY_METRICS } from './metrics.js';
import { parseDcgm, type DcgmGpu, type DcgmReading } from './parse.js';
import { DcgmXidEvents } from './xid-events.js';

export interface DcgmOptions {
  readonly url: string;
  /** Set in the config: a failure is a failure. Otherwise a failure before the first read means
   *  no dcgm-exporter runs here, which is not an error. */
  readonly configured: boolean;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
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
 * GPU depth from a local dcgm-exporter's /metrics, read at scrape time with a deadline and a
 * size cap: SM, tensor and DRAM activity, PCIe and NVLink traffic and errors, clock violation
 * time. nvidia-smi speaks for every GPU it streams; DCGM fills nvidia-smi's families only for
 * GPUs it does not, and feeds the shared energy and Xid counters (see GpuSources).
 */
export class DcgmCollector implements Collector {
  readonly name = NAME;
  readonly metrics = DCGM_METRICS;
  private readonly xidEvents = new DcgmXidEvents();
  private seen = new Set<string>();
  private found = false;
  private lastLookMs: number | undefined;
  private absent: string | undefined;
  private failure: string | undefined;
  private summary: string | undefined;

  constructor(
    private readonly options: DcgmOptions,
    private readonly deps: CollectorDeps,
  ) {}

  async collect(out: Emitter, signal: AbortSignal): Promise<void> {
    const lookingFor = !this.options.configured && !this.found;
    if (lookingFor) {
      const now = this.deps.clock.monotonicMs();
      if (this.lastLookMs !== undefined && now - this.lastLookMs < RECHECK_MS) return;
      this.lastLookMs = now;
    }
    let reading: DcgmReading;
    try {
      reading = await this.read(signal);
    } catch (error) {
      this.lose();
      const { reason, message } = failureOf(error);
      if (lookingFor) {
        if (this.absent === undefined)
          this.deps.logger.info(
            { source: NAME, reason },
            `no dcgm-exporter at ${this.options.url} (${message}); DCGM-only metrics are off`,
          );
        this.absent = `${reason}: ${message}`;
        return;
      }
      this.failure = `${reason}: ${message}`;
      throw new CollectorError(reason, message);
    }
    if (!this.found)
      this.deps.logger.info(
        { source: NAME, gpus: reading.gpus.size },
        `reading dcgm-exporter at ${this.options.url}`,
      );
    this.found = true;
    this.absent = undefined;
    this.failure = undefined;
    this.publish(out, reading);
  }

  status(): SourceStatus {
    if (this.failure) return { state: 'failing', detail: this.failure };
    if (this.found) return { state: 'ok', detail: this.summary ?? '' };
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

  private publish(out: Emitter, reading: DcgmReading): void {
    const { sources, inventory } = this.deps;
    const kernelLogReads = sources.kernelLogReads();
    for (const uuid of this.seen) {
      if (reading.gpus.has(uuid)) continue;
      sources.energy.dcgmLost(uuid);
      this.xidEvents.forget(uuid);
    }
    this.seen = new Set(reading.gpus.keys());
    let spokenFor = 0;
    for (const gpu of reading.gpus.values()) {
      const known = inventory.byUuid(gpu.uuid);
      if (!known && gpu.pciBusId)
        inventory.update([
          { gpu: gpu.gpu, uuid: gpu.uuid, gpuModel: gpu.model, pciBusId: gpu.pciBusId },
        ]);
      const identity = {
        gpu: known?.gpu ?? gpu.gpu,
        uuid: gpu.uuid,
        gpuModel: known?.gpuModel ?? gpu.model,
        pciBusId: known?.pciBusId ?? gpu.pciBusId ?? '',
      };
      const labels = { gpu: identity.gpu, uuid: gpu.uuid, gpu_model: identity.gpuModel };
      const nvidiaSmiReads = sources.nvidiaSmiReads(gpu.uuid);
      if (nvidiaSmiReads) spokenFor++;
      for (const [field, value] of gpu.values) {
        if (field.shared && nvidiaSmiReads) continue;
        out.emit(field.metric, withLabels(labels, field.labels), value);
      }
      if (gpu.energyJoules === undefined) sources.energy.dcgmLost(gpu.uuid);
      else sources.energy.dcgm(gpu.uuid, gpu.energyJoules);
      if (!nvidiaSmiReads) this.publishInstead(out, gpu, labels, identity.pciBusId);

      const events = this.xidEvents.events(gpu);
      if (kernelLogReads) continue;
      for (const [xid, count] of events) sources.xids.count(identity, xid, count);
      for (const xid of PAGED_XIDS) sources.xids.ensure(identity, xid);
    }
    if (!kernelLogReads) {
      for (const { labels, value } of sources.xids.entries())
        out.emit(GPU_XID_ERRORS, labels, value);
    }
    this.summary = summarize(this.options.url, reading, spokenFor, kernelLogReads);
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
        mig_mode: '',
        persistence_mode: '',
      },
      1,
    );
    const joules = this.deps.sources.energy.total(gpu.uuid);
    if (joules !== undefined) out.emit(smi.GPU_ENERGY, labels, joules);
  }

  private lose(): void {
    for (const uuid of this.seen) this.deps.sources.energy.dcgmLost(uuid);
    this.seen = new Set();
    this.xidEvents.forget();
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
  for (const gpu of reading.gpus.values())
    for (const field of gpu.values.keys()) if (!field.shared) families.add(field.metric.name);
  const profiling = [...families].some((n) => n.endsWith('_active_ratio'));
  const { blank, migInstance, conflicting } = reading.skipped;
  const left = [
    blank && `${blank} blank`,
    migInstance && `${migInstance} per-MIG-instance`,
    conflicting && `${conflicting} conflicting`,
  ].filter(Boolean);
  return (
    `${reading.gpus.size} GPU(s) at ${url}; ${families.size} DCGM-only famil${families.size === 1 ? 'y' : 'ies'}` +
    (profiling ? '' : ' (no profiling fields: enable DCGM_FI_PROF_* in its counters CSV)') +
    (spokenFor ? `; nvidia-smi speaks for ${spokenFor} of them` : '') +
    (kernelLogReads ? '' : '; Xid errors from DCGM (the kernel log cannot be read)') +
    (left.length ? `; left out: ${left.join(', ')} series` : '')
  );
}
