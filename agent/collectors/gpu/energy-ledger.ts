import type { GpuReader } from '../../shared/gpu-report.js';

/**
 * One energy counter per GPU, advanced by whichever reader speaks for its energy. Each reader's
 * figure grows from its own zero (DCGM's since the driver loaded, nvidia-smi's integral since
 * it first streamed the GPU), so the counter takes the speaker's increments only: a reader
 * that comes or goes never makes it jump or fall, and `rate()` and `increase()` stay true.
 */
export class EnergyLedger {
  private readonly gpus = new Map<string, { total: number; last: Map<GpuReader, number> }>();

  /**
   * One scrape's energy figures for a GPU, by reader. A reader missing from them starts from a
   * new baseline when it returns; a figure that fell (a driver reload) is a new baseline too.
   */
  advance(
    uuid: string,
    joules: ReadonlyMap<GpuReader, number>,
    speaker: GpuReader | undefined,
  ): void {
    let gpu = this.gpus.get(uuid);
    if (!gpu) {
      if (joules.size === 0) return;
      this.gpus.set(uuid, (gpu = { total: 0, last: new Map() }));
    }
    const before = speaker === undefined ? undefined : gpu.last.get(speaker);
    const now = speaker === undefined ? undefined : joules.get(speaker);
    if (before !== undefined && now !== undefined && now > before) gpu.total += now - before;
    gpu.last = new Map(joules);
  }

  /** Joules since the agent started; undefined before any reader reported the GPU's energy. */
  total(uuid: string): number | undefined {
    return this.gpus.get(uuid)?.total;
  }

  /** Joules of every GPU together since the agent started. */
  sum(): number {
    let joules = 0;
    for (const gpu of this.gpus.values()) joules += gpu.total;
    return joules;
  }
}
