import { writeFileSync } from 'node:fs';
import { busOf, uuidOf } from './gpu-identity.js';
import type { SimulatedProcess, SimulatedProcfs } from './procfs.js';

/** A simulated runtime as the GPU processes know it: its name, its port, and its GPUs. */
export interface RuntimeOnGpus {
  readonly name: string;
  readonly kind: string;
  readonly port: number;
  readonly gpus: readonly number[];
}

/** vLLM and SGLang reserve most of a GPU's memory at start (gpu_memory_utilization 0.9). */
const RESERVED_MIB = 72_340;

/**
 * Each runtime's processes on the node: a server listening on its port, and one GPU worker per
 * GPU it spans, its child. Written to the simulated procfs (so the agent can tell whose they
 * are) and to the compute-apps list the fake nvidia-smi reports (header as nvidia-smi prints
 * it); returns that list's path.
 */
export function placeGpuProcesses(
  procfs: SimulatedProcfs,
  runtimes: readonly RuntimeOnGpus[],
  appsFile: string,
): string {
  const rows: string[] = [];
  runtimes.forEach((runtime, r) => {
    const unit = `${runtime.name}.service`;
    const server: SimulatedProcess = { pid: 4100 + 100 * r, comm: 'python3', unit };
    const workers = runtime.gpus.map((_, w) => ({
      pid: server.pid + 1 + w,
      comm: 'python3',
      unit,
    }));
    procfs.runtime(server, workers, runtime.port);
    runtime.gpus.forEach((gpu, w) =>
      rows.push(
        `2026/12/01 00:00:00.000, NVIDIA H100 80GB HBM3, ${busOf(gpu)}, 0000000000000, ${uuidOf(gpu)}, ${workers[w]?.pid}, /usr/bin/python3, ${RESERVED_MIB} MiB`,
      ),
    );
  });
  writeFileSync(
    appsFile,
    `timestamp, gpu_name, gpu_bus_id, gpu_serial, gpu_uuid, pid, process_name, used_gpu_memory [MiB]\n${rows.join('\n')}\n`,
  );
  return appsFile;
}
