/**
 * One energy counter per GPU, fed by two sources: DCGM's counter (exact, since the driver
 * loaded) and nvidia-smi's power integral (since the agent started). It advances by DCGM's
 * increments while DCGM reports the GPU and by the integral's otherwise, so a source that comes
 * or goes never makes the counter jump or fall: `rate()` and `increase()` stay true across it.
 */
export class EnergyLedger {
  private readonly gpus = new Map<
    string,
    { total: number; integrated: number | undefined; dcgm: number | undefined }
  >();

  /** nvidia-smi's integral for the GPU, in joules, as it grows. */
  integrated(uuid: string, joules: number): void {
    const gpu = this.entry(uuid);
    if (gpu.integrated !== undefined && gpu.dcgm === undefined && joules > gpu.integrated)
      gpu.total += joules - gpu.integrated;
    gpu.integrated = joules;
  }

  /** DCGM's energy counter for the GPU, in joules. */
  dcgm(uuid: string, joules: number): void {
    const gpu = this.entry(uuid);
    // A lower value means the driver reloaded: the counter starts again from there.
    if (gpu.dcgm !== undefined && joules > gpu.dcgm) gpu.total += joules - gpu.dcgm;
    gpu.dcgm = joules;
  }

  /** DCGM no longer reports the GPU: the integral counts again from now. */
  dcgmLost(uuid: string): void {
    const gpu = this.gpus.get(uuid);
    if (gpu) gpu.dcgm = undefined;
  }

  /** Joules since the agent started; undefined before any source reported the GPU. */
  total(uuid: string): number | undefined {
    return this.gpus.get(uuid)?.total;
  }

  /** Joules of every GPU together since the agent started. */
  sum(): number {
    let joules = 0;
    for (const gpu of this.gpus.values()) joules += gpu.total;
    return joules;
  }

  private entry(uuid: string) {
    let gpu = this.gpus.get(uuid);
    if (!gpu) this.gpus.set(uuid, (gpu = { total: 0, integrated: undefined, dcgm: undefined }));
    return gpu;
  }
}
