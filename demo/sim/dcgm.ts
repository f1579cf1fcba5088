import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { busOf, uuidOf } from './gpu-identity.js';

/** What one simulated GPU is doing now. */
export interface GpuActivity {
  /** 0 to 1. */
  readonly utilization: number;
  readonly powerWatts: number;
}

export interface SimulatedDcgmOptions {
  readonly gpus: number;
  readonly hostname: string;
  readonly activity: (gpu: number) => GpuActivity;
  /** GPUs gone from the bus: dcgm-exporter stops reporting them. */
  readonly lost: () => ReadonlySet<number>;
  /** GPUs in MIG mode, split into two 3g.40gb instances. */
  readonly mig?: ReadonlySet<number>;
}

/** The MIG instances of a MIG GPU here: two halves of an H100 80GB. */
const INSTANCES = [
  { id: '1', profile: '3g.40gb', share: 1 },
  { id: '2', profile: '3g.40gb', share: 0.5 },
] as const;
const INSTANCE_MIB = 40_192;

const NVLINK_ERRORS = ['CRC_FLIT', 'CRC_DATA', 'REPLAY', 'RECOVERY'] as const;

/**
 * A dcgm-exporter on loopback with the profiling fields (SM, tensor and DRAM activity), the
 * exact energy counter and the NVLink error counters, for the same GPUs the fake nvidia-smi
 * shows. NVLink errors can be made to climb on one GPU. A MIG GPU is written as dcgm-exporter
 * writes one: every field on each instance's rows (GPU_I_PROFILE, GPU_I_ID), the GPU-wide
 * ones repeated, and no row of the GPU itself.
 */
export class SimulatedDcgmExporter {
  private readonly server: Server;
  private readonly energyMillijoules: number[];
  private readonly nvlinkErrors: number[];
  private readonly erroring = new Set<number>();
  private last = performance.now();

  constructor(private readonly options: SimulatedDcgmOptions) {
    this.energyMillijoules = Array.from({ length: options.gpus }, (_, i) => 8e9 + i * 1e8);
    this.nvlinkErrors = Array.from({ length: options.gpus }, () => 0);
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.render());
    });
  }

  /** CRC errors on this GPU's NVLinks climb by 40 a second from now on. */
  failNvlink(gpu: number): void {
    this.erroring.add(gpu);
  }

  heal(): void {
    this.erroring.clear();
  }

  /** On loopback; another 127.0.0.0/8 address stands for a pod's own address. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}/metrics`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private render(): string {
    const now = performance.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    const lost = this.options.lost();
    const families = new Map<string, string[]>();
    const add = (name: string, labels: string, value: number) => {
      const lines = families.get(name) ?? [];
      lines.push(`${name}{${labels}} ${value}`);
      families.set(name, lines);
    };
    for (let gpu = 0; gpu < this.options.gpus; gpu++) {
      const { utilization, powerWatts } = this.options.activity(gpu);
      this.energyMillijoules[gpu] =
        (this.energyMillijoules[gpu] ?? 0) + powerWatts * seconds * 1000;
      if (this.erroring.has(gpu))
        this.nvlinkErrors[gpu] = (this.nvlinkErrors[gpu] ?? 0) + 40 * seconds;
      if (lost.has(gpu)) continue;
      const labels = `gpu="${gpu}",UUID="${uuidOf(gpu)}",pci_bus_id="${busOf(gpu)}",device="nvidia${gpu}",modelName="NVIDIA H100 80GB HBM3",Hostname="${this.options.hostname}",DCGM_FI_DRIVER_VERSION="590.48.01"`;
      // Host traffic and NVLink traffic follow the load: an H100 SXM's links, far from full.
      add('DCGM_FI_PROF_PCIE_TX_BYTES', labels, Math.round(utilization * 1.5e9));
      add('DCGM_FI_PROF_PCIE_RX_BYTES', labels, Math.round(utilization * 4e9));
      add('DCGM_FI_PROF_NVLINK_TX_BYTES', labels, Math.round(utilization * 60e9));
      add('DCGM_FI_PROF_NVLINK_RX_BYTES', labels, Math.round(utilization * 60e9));
      const rows = this.options.mig?.has(gpu)
        ? INSTANCES.map((i) => ({
            labels: `${labels},GPU_I_PROFILE="${i.profile}",GPU_I_ID="${i.id}"`,
            busy: utilization * i.share,
            memory: true,
          }))
        : [{ labels, busy: utilization, memory: false }];
      for (const row of rows) {
        add('DCGM_FI_PROF_GR_ENGINE_ACTIVE', row.labels, round(row.busy * 0.95));
        add('DCGM_FI_PROF_SM_ACTIVE', row.labels, round(row.busy * 0.8));
        add('DCGM_FI_PROF_SM_OCCUPANCY', row.labels, round(row.busy * 0.35));
        add('DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', row.labels, round(row.busy * 0.45));
        add('DCGM_FI_PROF_DRAM_ACTIVE', row.labels, round(row.busy * 0.6));
        if (row.memory) {
          const used = Math.round(INSTANCE_MIB * (0.2 + 0.7 * row.busy));
          add('DCGM_FI_DEV_FB_USED', row.labels, used);
          add('DCGM_FI_DEV_FB_FREE', row.labels, INSTANCE_MIB - used);
        }
        add(
          'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
          row.labels,
          Math.floor(this.energyMillijoules[gpu] ?? 0),
        );
        for (const kind of NVLINK_ERRORS)
          add(
            `DCGM_FI_DEV_NVLINK_${kind}_ERROR_COUNT_TOTAL`,
            row.labels,
            kind === 'CRC_DATA' ? Math.floor(this.nvlinkErrors[gpu] ?? 0) : 0,
          );
      }
    }
    const out: string[] = [];
    for (const [name, lines] of families)
      out.push(
        `# HELP ${name} ${name}.`,
        `# TYPE ${name} ${name.includes('ERROR_COUNT') || name.includes('ENERGY') ? 'counter' : 'gauge'}`,
        ...lines,
      );
    return `${out.join('\n')}\n`;
  }
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
