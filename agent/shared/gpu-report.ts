import { channel } from '../core/collector.js';
import type { Labels, MetricDef } from '../core/metric.js';

/** The sources that read GPUs, each reporting what it saw to the GPU view. */
export type GpuReader = 'nvidia_smi' | 'dcgm' | 'kernel_log';

/** One series a reader read for a GPU: its family, the labels past the GPU's own, its value. */
export interface GpuFigure {
  readonly metric: MetricDef;
  readonly labels: Labels;
  readonly value: number;
}

/** A GPU as one reader saw it in one read. */
export interface GpuSighting {
  readonly uuid: string;
  /** The `gpu` label: the index the reader numbers it by. */
  readonly index: string;
  readonly model: string;
  /** Normalized (`0000:91:00`); empty where the reader does not know it. */
  readonly pciBusId: string;
  /** inferwatch_gpu_info's labels past the GPU's own, as far as this reader knows them. */
  readonly info: Labels;
  readonly figures: readonly GpuFigure[];
  /**
   * Energy in joules: nvidia-smi's integral of power since it first streamed the GPU, DCGM's
   * counter since the driver loaded. Either only ever grows while its reader runs.
   */
  readonly energyJoules?: number | undefined;
}

/**
 * Xid events a reader saw for one GPU and code since the reader started. A count, not an
 * increment: a report lost with a failed scrape loses no event.
 */
export interface XidTally {
  /** Where the reader knows the GPU by its bus (the kernel log); empty otherwise. */
  readonly pciBusId: string;
  /** Where the reader knows the GPU by its UUID (DCGM); empty otherwise. */
  readonly uuid: string;
  readonly xid: number;
  readonly events: number;
}

/** What one GPU reader saw, handed to the GPU view in each scrape it serves. */
export interface GpuReport {
  readonly reader: GpuReader;
  readonly gpus: readonly GpuSighting[];
  /** Only from a reader that counts Xid events; absent from one that does not. */
  readonly xids?: readonly XidTally[];
  /** The UUID the reader learnt for a bus id (the kernel names a GPU nvidia-smi cannot reach). */
  readonly uuids?: ReadonlyMap<string, string>;
}

export const GPU_REPORTS = channel<GpuReport>('gpu');

/** The GPUs' energy since the agent started, as the GPU view counts it, for the cost. */
export interface EnergySpent {
  readonly joules: number;
}

export const ENERGY_SPENT = channel<EnergySpent>('energy');
