import type { Emitter, SourceStatus, Stage } from '../../core/collector.js';
import type { Durable } from '../../core/durable.js';
import type { Labels, MetricDef } from '../../core/metric.js';
import type { GpuFacts } from '../../shared/gpu-facts.js';
import { GPU_ENERGY, GPU_INFO, GPU_XID_ERRORS, PAGED_XIDS } from '../../shared/gpu-metrics.js';
import {
  ENERGY_SPENT,
  GPU_REPORTS,
  type GpuReader,
  type GpuReport,
} from '../../shared/gpu-report.js';
import { arbitrate, type GpuVerdict, type Verdict } from './arbitrate.js';
import { EnergyLedger } from './energy-ledger.js';
import { GpuInventory, type GpuIdentity } from './inventory.js';
import { XidLedger } from './xid-ledger.js';

const NAME = 'gpu';

/** What outlives a configuration reload: the GPUs seen, and the counters. */
interface Kept {
  readonly inventory: GpuInventory;
  readonly energy: EnergyLedger;
  readonly xids: XidLedger;
}

const READER_NAMES: Record<GpuReader, string> = {
  nvidia_smi: 'nvidia-smi',
  dcgm: 'DCGM',
  kernel_log: 'the kernel log',
};

/**
 * The one GPU view (dcgm-exporter's collect-then-transform): nvidia-smi, DCGM and the kernel
 * log report what they saw, and this stage alone writes the per-GPU families. `arbitrate`
 * decides who speaks for each GPU and family; here the series get the GPU's names, and the
 * energy and Xid counters, owned only here, advance by the speaker's figures.
 */
export class GpuView implements Stage<GpuReport> {
  readonly name = NAME;
  readonly input = GPU_REPORTS;
  readonly output = [ENERGY_SPENT];
  private readonly kept: Kept;
  private readonly labelCache = new Map<string, WeakMap<Labels, Labels>>();
  private last: Verdict | undefined;

  constructor(
    /** Every family a reader may report: the view writes them all. */
    readonly metrics: readonly MetricDef[],
    durable: Durable,
    private readonly facts: GpuFacts,
  ) {
    this.kept = durable.get(`${NAME}/view`, () => ({
      inventory: new GpuInventory(),
      energy: new EnergyLedger(),
      xids: new XidLedger(),
    }));
  }

  merge(reports: readonly GpuReport[], out: Emitter): void {
    const verdict = arbitrate(reports);
    this.learn(reports);
    const { energy } = this.kept;
    const named = [];
    for (const gpu of verdict.gpus) {
      const identity = this.identityOf(gpu);
      const labels = { gpu: identity.gpu, uuid: gpu.uuid, gpu_model: identity.gpuModel };
      named.push(labels);
      out.emit(GPU_INFO, { ...labels, ...gpu.named.sighting.info }, 1);
      for (const figure of gpu.figures)
        out.emit(figure.metric, this.labelled(labels, figure.labels), figure.value);
      energy.advance(gpu.uuid, gpu.energy, gpu.energySpeaker);
      const joules = energy.total(gpu.uuid);
      if (joules !== undefined) out.emit(GPU_ENERGY, labels, joules);
    }
    this.facts.setDriverVersions(
      verdict.gpus.map((g) => g.named.sighting.info.driver_version ?? ''),
    );
    this.facts.setGpus(named);
    this.countXids(reports, verdict, out);
    out.report(ENERGY_SPENT, { joules: energy.sum() });
    this.last = verdict;
  }

  status(): SourceStatus {
    const verdict = this.last;
    // The view merges at each scrape: before the first, it has nothing to say yet.
    if (!verdict)
      return { state: 'starting', detail: 'the first scrape merges what the readers saw' };
    if (verdict.gpus.length === 0)
      return {
        state: 'missing',
        detail: 'no reader reports a GPU (nvidia-smi, dcgm-exporter)',
        todo: 'see what nvidia_smi and dcgm say above; on a node without NVIDIA GPUs, switch both off in the config',
      };
    const named = new Map<GpuReader, string[]>();
    for (const gpu of verdict.gpus) {
      const list = named.get(gpu.named.by) ?? [];
      list.push(this.identityOf(gpu).gpu || gpu.uuid);
      named.set(gpu.named.by, list);
    }
    const who = [...named].map(([by, gpus]) => `${READER_NAMES[by]} speaks for ${gpus.join(', ')}`);
    const xids = verdict.xidSpeaker
      ? `Xid errors from ${READER_NAMES[verdict.xidSpeaker]}`
      : 'no reader of Xid errors';
    const lines = verdict.gpus.map((gpu) => {
      const id = this.identityOf(gpu);
      return `GPU ${id.gpu || '?'}: ${id.gpuModel || 'unknown model'}, ${id.uuid}, bus ${id.pciBusId || 'unknown'} (${READER_NAMES[gpu.named.by]})`;
    });
    return {
      state: 'ok',
      detail: `${verdict.gpus.length} GPU(s): ${who.join('; ')}; ${xids}`,
      lines,
    };
  }

  /** nvidia-smi names a GPU; DCGM adds one nvidia-smi does not list; the kernel, a UUID. */
  private learn(reports: readonly GpuReport[]): void {
    const { inventory } = this.kept;
    for (const report of reports) {
      for (const gpu of report.gpus) {
        if (!gpu.pciBusId) continue;
        const identity = {
          gpu: gpu.index,
          uuid: gpu.uuid,
          gpuModel: gpu.model,
          pciBusId: gpu.pciBusId,
        };
        if (report.reader === 'nvidia_smi') inventory.update(identity);
        else inventory.add(identity);
      }
      for (const [bus, uuid] of report.uuids ?? []) inventory.learnUuid(bus, uuid);
    }
  }

  private identityOf(gpu: GpuVerdict): GpuIdentity {
    const s = gpu.named.sighting;
    return (
      this.kept.inventory.byUuid(gpu.uuid) ?? {
        gpu: s.index,
        uuid: s.uuid,
        gpuModel: s.model,
        pciBusId: s.pciBusId,
      }
    );
  }

  private countXids(reports: readonly GpuReport[], verdict: Verdict, out: Emitter): void {
    const { inventory, xids } = this.kept;
    const seen = new Map(verdict.gpus.map((g) => [g.uuid, g]));
    for (const report of reports) {
      for (const tally of report.xids ?? []) {
        const verdictGpu = seen.get(tally.uuid);
        const gpu = tally.pciBusId
          ? inventory.lookup(tally.pciBusId)
          : (inventory.byUuid(tally.uuid) ??
            (verdictGpu
              ? this.identityOf(verdictGpu)
              : { gpu: '', uuid: tally.uuid, gpuModel: '', pciBusId: '' }));
        const key = tally.pciBusId || tally.uuid;
        xids.tally(
          report.reader,
          key,
          gpu,
          tally.xid,
          tally.events,
          report.reader === verdict.xidSpeaker,
        );
      }
    }
    if (!verdict.xidSpeaker) return;
    const gpus = [...inventory.known(), ...verdict.gpus.map((g) => this.identityOf(g))];
    for (const gpu of gpus) for (const xid of PAGED_XIDS) xids.ensure(gpu, xid);
    for (const { labels, value } of xids.entries()) out.emit(GPU_XID_ERRORS, labels, value);
  }

  /** Label sets per GPU and figure, built once: they change only with the GPU's names. */
  private labelled(gpu: Labels, extra: Labels): Labels {
    const key = `${gpu.gpu}\u0000${gpu.uuid}\u0000${gpu.gpu_model}`;
    let byExtra = this.labelCache.get(key);
    if (!byExtra) {
      if (this.labelCache.size > 1024) this.labelCache.clear();
      this.labelCache.set(key, (byExtra = new WeakMap()));
    }
    let labels = byExtra.get(extra);
    if (!labels) byExtra.set(extra, (labels = { ...gpu, ...extra }));
    return labels;
  }
}
