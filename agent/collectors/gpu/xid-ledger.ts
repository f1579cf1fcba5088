import type { Labels } from '../../core/metric.js';
import type { GpuReader } from '../../shared/gpu-report.js';
import type { GpuIdentity } from './inventory.js';

export interface XidSeries {
  labels: Labels;
  value: number;
}

/**
 * Xid errors per GPU and code since the agent started, kept apart from whichever reader saw
 * them (the kernel log, or DCGM where the kernel log cannot be read), so a counter never falls
 * back when its reader changes.
 */
export class XidLedger {
  private readonly series = new Map<string, XidSeries>();
  /** Each reader's last count of events, by its own key for the GPU and the code. */
  private readonly tallies = new Map<string, number>();

  /**
   * A reader's count of a GPU's events since the reader started: its rise since the last count
   * is new events, added when the reader speaks for Xids. A count that fell is a reader that
   * started again, from 0.
   */
  tally(
    reader: GpuReader,
    key: string,
    gpu: GpuIdentity,
    xid: number,
    events: number,
    speaks: boolean,
  ): void {
    const at = `${reader}/${key}/${xid}`;
    const before = this.tallies.get(at) ?? 0;
    this.tallies.set(at, events);
    const rise = events >= before ? events - before : events;
    if (speaks && rise > 0) this.count(gpu, xid, rise);
  }

  count(gpu: GpuIdentity, xid: number, events = 1): void {
    this.entry(gpu, xid).value += events;
  }

  /** Makes the series exist at 0, so the first event is visible to `increase()`. */
  ensure(gpu: GpuIdentity, xid: number): void {
    this.entry(gpu, xid);
  }

  entries(): IterableIterator<XidSeries> {
    return this.series.values();
  }

  total(): number {
    let sum = 0;
    for (const s of this.series.values()) sum += s.value;
    return sum;
  }

  private entry(gpu: GpuIdentity, xid: number): XidSeries {
    const key = `${gpu.pciBusId || gpu.uuid}/${xid}`;
    const series = this.series.get(key);
    // Labels are built only for a new series, or when the GPU's identity was learnt after the
    // first event (nvidia-smi started later): this runs for every GPU and paged code each scrape.
    if (series && series.labels.uuid === gpu.uuid && series.labels.gpu === gpu.gpu) return series;
    const labels = {
      gpu: gpu.gpu,
      uuid: gpu.uuid,
      gpu_model: gpu.gpuModel,
      pci_bus_id: gpu.pciBusId,
      xid: String(xid),
    };
    if (series) {
      series.labels = labels;
      return series;
    }
    const created = { labels, value: 0 };
    this.series.set(key, created);
    return created;
  }
}
