/** A GPU as the other collectors label it. */
export interface GpuIdentity {
  readonly gpu: string;
  readonly uuid: string;
  readonly gpuModel: string;
  /** Normalized: `0000:91:00` (domain:bus:device, lower case). */
  readonly pciBusId: string;
  /** The driver the GPU runs under, where the reader reports it. */
  readonly driverVersion?: string | undefined;
}

const BUS_ID = /^(?:PCI:|GPU)?([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})(?:\.[0-7])?$/;

/**
 * One key for the forms a PCI bus id takes: nvidia-smi's `00000000:91:00.0`, the kernel's
 * `PCI:0000:91:00`, and nvidia-smi's error text `GPU0000:91:00.0`.
 */
export function normalizeBusId(id: string): string | undefined {
  const match = BUS_ID.exec(id.trim());
  if (!match) return undefined;
  const [, domain = '', bus = '', device = ''] = match;
  return `${domain.slice(-4)}:${bus}:${device}`.toLowerCase();
}

/**
 * The GPUs the agent has seen, shared between collectors: nvidia-smi fills it, the kernel-log
 * reader looks up a PCI bus id there. A GPU that falls off the bus is remembered, so its Xid
 * series keep their labels after nvidia-smi stops listing it.
 */
export class GpuInventory {
  private readonly byBus = new Map<string, GpuIdentity>();

  update(gpus: readonly GpuIdentity[]): void {
    for (const gpu of gpus) this.byBus.set(gpu.pciBusId, gpu);
  }

  /** What the kernel said about a GPU nvidia-smi has not listed (`NVRM: GPU at PCI:…: GPU-…`). */
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
