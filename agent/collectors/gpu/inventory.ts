/** A GPU as the per-GPU series label it. */
export interface GpuIdentity {
  readonly gpu: string;
  readonly uuid: string;
  readonly gpuModel: string;
  /** Normalized: `0000:91:00` (domain:bus:device, lower case). */
  readonly pciBusId: string;
}

/**
 * The GPUs the GPU view has seen, by bus id. nvidia-smi's names win (the runtimes' and
 * processes' series carry them); DCGM adds the GPUs nvidia-smi does not list; the kernel log
 * adds the UUID of a GPU at a bus. A GPU that falls off the bus is remembered, so its Xid
 * series keep their labels after every reader stops listing it.
 */
export class GpuInventory {
  private readonly byBus = new Map<string, GpuIdentity>();

  /** What the GPU's own reader says: it replaces what was known. */
  update(gpu: GpuIdentity): void {
    this.byBus.set(gpu.pciBusId, gpu);
  }

  /** What a second reader says: kept only where nothing was known of the GPU. */
  add(gpu: GpuIdentity): void {
    if (!this.byUuid(gpu.uuid)) this.byBus.set(gpu.pciBusId, gpu);
  }

  /** What the kernel said about a GPU no reader listed (`NVRM: GPU at PCI:…: GPU-…`). */
  learnUuid(pciBusId: string, uuid: string): void {
    const known = this.byBus.get(pciBusId);
    if (!known) this.byBus.set(pciBusId, { gpu: '', uuid, gpuModel: '', pciBusId });
    else if (!known.uuid) this.byBus.set(pciBusId, { ...known, uuid });
  }

  lookup(pciBusId: string): GpuIdentity {
    return this.byBus.get(pciBusId) ?? { gpu: '', uuid: '', gpuModel: '', pciBusId };
  }

  byUuid(uuid: string): GpuIdentity | undefined {
    for (const gpu of this.byBus.values()) if (gpu.uuid === uuid) return gpu;
    return undefined;
  }

  known(): readonly GpuIdentity[] {
    return [...this.byBus.values()];
  }
}
