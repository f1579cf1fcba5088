import { EnergyLedger } from './energy-ledger.js';
import { XidLedger } from './xid-ledger.js';

/**
 * Who speaks for which GPU, shared by the collectors that can read the same figure from
 * different sources, so each series has exactly one: nvidia-smi for every GPU it streams, DCGM
 * for the others; the kernel log for Xid errors, DCGM's Xid counts only while the kernel log
 * cannot be read. The counters both may feed live here, apart from either source.
 */
export class GpuSources {
  readonly energy = new EnergyLedger();
  readonly xids = new XidLedger();
  private streamed: ReadonlySet<string> = new Set();
  private kernelLog = false;

  /** The GPUs in nvidia-smi's latest complete sample; none while it is down. */
  setNvidiaSmi(uuids: Iterable<string>): void {
    this.streamed = new Set(uuids);
  }

  nvidiaSmiReads(uuid: string): boolean {
    return this.streamed.has(uuid);
  }

  setKernelLog(reading: boolean): void {
    this.kernelLog = reading;
  }

  kernelLogReads(): boolean {
    return this.kernelLog;
  }
}
