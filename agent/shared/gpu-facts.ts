/** A GPU's names on every per-GPU series. */
export interface GpuNames {
  readonly gpu: string;
  readonly uuid: string;
  readonly gpu_model: string;
}

/**
 * What the GPU view saw in its last scrape, for the sources that need it: the driver versions
 * (the evaluation records what a result rests on) and each GPU's names, with the MIG devices
 * nvidia-smi lists (the pod-resources source labels a device with its GPU). Empty while no
 * reader reports a GPU: unknown, which is not a change.
 */
export class GpuFacts {
  private versions: readonly string[] = [];
  private names = new Map<string, GpuNames>();
  /** MIG device UUID to the UUID of the GPU it is carved from. */
  private migParents: ReadonlyMap<string, string> = new Map();

  setDriverVersions(versions: Iterable<string>): void {
    this.versions = [...new Set(versions)].filter((v) => v !== '').sort();
  }

  driverVersions(): readonly string[] {
    return this.versions;
  }

  setGpus(gpus: Iterable<GpuNames>): void {
    const names = new Map<string, GpuNames>();
    for (const g of gpus) {
      names.set(g.uuid, g);
      if (g.gpu) names.set(g.gpu, g);
    }
    this.names = names;
  }

  /** The MIG devices of the GPUs, as nvidia-smi last listed them. */
  setMigParents(parents: ReadonlyMap<string, string>): void {
    this.migParents = parents;
  }

  /**
   * The GPU a device ID names: its UUID, its index (a device plugin set to index IDs), or a
   * MIG device's UUID (the GPU it is carved from).
   */
  gpuOf(device: string): GpuNames | undefined {
    return this.names.get(this.migParents.get(device) ?? device);
  }
}
