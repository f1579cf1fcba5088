import { dcgmUrlOf, isDcgmExporter } from '../../shared/pod.js';
import { withTodo } from '../../core/state-log.js';
import { BackgroundRead } from '../../core/background-read.js';
import {
  CollectorError,
  failureOf,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import { isUnresponsive } from '../../core/http.js';
import type { MetricDef } from '../../core/metric.js';
import type { CollectorDeps } from '../../shared/collector-factory.js';
import * as gpus from '../../shared/gpu-metrics.js';
import {
  GPU_REPORTS,
  type GpuFigure,
  type GpuSighting,
  type XidTally,
} from '../../shared/gpu-report.js';
import { DCGM_FIELDS } from './fields.js';
import { MIG_INSTANCE_INFO } from './metrics.js';
import { parseDcgm, type DcgmGpu, type DcgmReading } from './parse.js';
import { DcgmXidEvents } from './xid-events.js';

/** dcgm-exporter is optional: what a person can do to have its figures. */
const ABSENT_TODO =
  'optional: run dcgm-exporter on this node for them, or set collectors.dcgm.url where it runs';

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

/** Every family DCGM reads: all per GPU, so the GPU view writes them with the GPU's names. */
export const DCGM_FEEDS: readonly MetricDef[] = [
  ...new Set([
    ...DCGM_FIELDS.flatMap((f) => (f.mig ? [f.metric, f.mig] : [f.metric])),
    MIG_INSTANCE_INFO,
    gpus.GPU_INFO,
    gpus.GPU_ENERGY,
    gpus.GPU_XID_ERRORS,
  ]),
];

/**
 * GPU depth from a local dcgm-exporter's /metrics: SM, tensor and DRAM activity, PCIe and
 * NVLink traffic and errors, clock violation time, MIG instances. It is read ahead of the next
 * scrape (BackgroundRead), so a scrape writes what is known; a slow or hung exporter is served
 * from its last good read, with its age. Every figure goes to the GPU view, which decides where
 * nvidia-smi or the kernel log speaks instead.
 */
export class DcgmCollector implements Collector {
  readonly name = NAME;
  readonly metrics: readonly MetricDef[] = [];
  private readonly xidEvents = new DcgmXidEvents();
  private readonly reader: BackgroundRead<DcgmReading>;
  private seen = new Set<string>();
  /** Each read as the GPU view takes it, made once per read. */
  private readonly sightings = new WeakMap<DcgmReading, readonly GpuSighting[]>();
  /** Xid events by GPU and code since the agent started, kept through a reload. */
  private readonly xids: Map<string, XidTally>;
  private found = false;
  private lastLookMs: number | undefined;
  private lastLookUrl: string | undefined;
  private absent: string | undefined;

  constructor(
    private readonly options: DcgmOptions,
    private readonly deps: CollectorDeps,
  ) {
    this.xids = deps.durable.get(`${NAME}/xids`, () => new Map<string, XidTally>());
    this.reader = new BackgroundRead((signal) => this.read(signal), {
      clock: deps.clock,
      timers: deps.timers,
      timeoutMs: options.timeoutMs + 1000,
      settled: (outcome) => (outcome.ok ? this.took(outcome.value) : this.lost(outcome.error)),
      missed: () => this.deps.errors.count(NAME, 'slow'),
    });
  }

  async stop(): Promise<void> {
    this.reader.stop();
  }

  /**
   * Where it is read: the configured URL; in a cluster, the dcgm-exporter pod on this node (as
   * the GPU Operator runs it, on the pod network); else the local default.
   */
  private get url(): string {
    if (this.options.configured || !this.deps.nodePods.active) return this.options.url;
    for (const pod of this.deps.nodePods.current.values()) {
      const url = isDcgmExporter(pod) ? dcgmUrlOf(pod) : undefined;
      if (url) return url;
    }
    return this.options.url;
  }

  async collect(out: Emitter, handOver: AbortSignal): Promise<void> {
    const lookingFor = !this.options.configured && !this.found;
    if (lookingFor) {
      const now = this.deps.clock.monotonicMs();
      // A dcgm-exporter pod that appeared is looked at now, not at the next recheck.
      const url = this.url;
      if (
        this.lastLookMs !== undefined &&
        now - this.lastLookMs < RECHECK_MS &&
        url === this.lastLookUrl
      )
        return;
      this.lastLookMs = now;
      this.lastLookUrl = url;
    }
    // Looking for one is a look now, once a minute; one found is read ahead of each scrape.
    let inTime: boolean;
    if (lookingFor) {
      inTime = await this.reader.refresh(handOver);
      if (this.found) await this.reader.forScrape(handOver);
    } else inTime = await this.reader.forScrape(handOver);
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
      return { state: 'failing', detail: `${reason}: ${message}`, todo: this.failingTodo() };
    }
    const last = this.reader.last;
    if (this.found && last) return { state: 'ok', detail: summarize(this.url, last.value) };
    if (this.absent)
      return {
        state: 'missing',
        detail:
          `no dcgm-exporter answers at ${this.url} (${this.absent}); SM, tensor and DRAM activity, ` +
          'NVLink and PCIe figures are off',
        todo: ABSENT_TODO,
      };
    return { state: 'starting', detail: `not read yet (${this.url})` };
  }

  private async read(signal: AbortSignal): Promise<DcgmReading> {
    const response = await this.deps.http.get(this.url, {
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
        `reading dcgm-exporter at ${this.url}`,
      );
    this.found = true;
    this.absent = undefined;
    this.deps.stateLog.ok(NAME);
    for (const uuid of this.seen) if (!reading.gpus.has(uuid)) this.xidEvents.forget(uuid);
    this.seen = new Set(reading.gpus.keys());
    for (const gpu of reading.gpus.values()) {
      for (const [xid, count] of this.xidEvents.events(gpu)) {
        const key = `${gpu.uuid}/${xid}`;
        const events = (this.xids.get(key)?.events ?? 0) + count;
        this.xids.set(key, { pciBusId: '', uuid: gpu.uuid, xid, events });
      }
    }
  }

  private lost(error: unknown): void {
    this.seen = new Set();
    this.xidEvents.forget();
    const { reason, message } = failureOf(error);
    if (!this.options.configured && !this.found) {
      if (this.absent === undefined)
        this.deps.logger.info(
          { source: NAME, reason },
          withTodo(
            `no dcgm-exporter at ${this.url} (${message}); DCGM-only metrics are off`,
            ABSENT_TODO,
          ),
        );
      this.absent = `${reason}: ${message}`;
      return;
    }
    this.deps.errors.count(NAME, isUnresponsive(error) ? 'unresponsive' : reason);
    this.deps.stateLog.failing(
      NAME,
      reason,
      `dcgm-exporter at ${this.url}: ${message}`,
      this.failingTodo(),
    );
  }

  private failingTodo(): string {
    return `check that ${this.url} answers dcgm-exporter's metrics (curl -s URL | head), or set collectors.dcgm.url where it runs; the GPUs stay read through nvidia-smi meanwhile`;
  }

  private publish(out: Emitter, reading: DcgmReading): void {
    let sightings = this.sightings.get(reading);
    if (!sightings)
      this.sightings.set(reading, (sightings = [...reading.gpus.values()].map(sightingOf)));
    out.report(GPU_REPORTS, { reader: 'dcgm', gpus: sightings, xids: [...this.xids.values()] });
  }
}

/** A GPU as DCGM read it: every field, and each MIG instance's. */
function sightingOf(gpu: DcgmGpu): GpuSighting {
  const figures: GpuFigure[] = [...gpu.values].map(([field, value]) => ({
    metric: field.metric,
    labels: field.labels,
    value,
  }));
  for (const instance of gpu.migInstances.values()) {
    const labels = { gpu_instance: instance.id, mig_profile: instance.profile };
    figures.push({ metric: MIG_INSTANCE_INFO, labels, value: 1 });
    for (const [field, value] of instance.values)
      if (field.mig) figures.push({ metric: field.mig, labels, value });
  }
  return {
    uuid: gpu.uuid,
    index: gpu.gpu,
    model: gpu.model,
    pciBusId: gpu.pciBusId ?? '',
    info: {
      driver_version: gpu.driverVersion ?? '',
      cuda_version: '',
      pci_bus_id: gpu.pciBusId ?? '',
      vbios_version: '',
      compute_cap: '',
      mig_mode: gpu.migInstances.size > 0 ? 'Enabled' : '',
      persistence_mode: '',
    },
    figures,
    energyJoules: gpu.energyJoules,
  };
}

function summarize(url: string, reading: DcgmReading): string {
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
    (left.length ? `; left out: ${left.join(', ')} series` : '')
  );
}
