/** A MIG device as `nvidia-smi -L` lists it under its GPU. */
export interface MigDevice {
  /** The GPU it is carved from, by UUID. */
  readonly gpuUuid: string;
  /** Its profile, such as 1g.10gb. */
  readonly profile: string;
}

const GPU_LINE = /^GPU \d+: .*\(UUID: (GPU-[0-9a-fA-F-]+)\)\s*$/;
const MIG_LINE = /^\s+MIG (\S+)\s+Device\s+\d+: \(UUID: (MIG-[0-9a-fA-F-]+)\)\s*$/;

/**
 * `nvidia-smi -L`: each GPU, and under it the MIG devices carved from it, by the UUIDs the
 * NVIDIA device plugin gives containers. Lines of another shape are skipped.
 */
export function parseMigList(text: string): Map<string, MigDevice> {
  const devices = new Map<string, MigDevice>();
  let gpu: string | undefined;
  for (const line of text.split('\n')) {
    const g = GPU_LINE.exec(line);
    if (g) {
      gpu = g[1];
      continue;
    }
    const m = MIG_LINE.exec(line);
    if (m && gpu) devices.set(m[2] as string, { gpuUuid: gpu, profile: m[1] as string });
  }
  return devices;
}
