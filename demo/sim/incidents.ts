import { HOST_ALERTS } from '../../alerts/src/areas/host.js';
import { AGENT_ALERTS } from '../../alerts/src/areas/agent.js';
import { COST_ALERTS } from '../../alerts/src/areas/cost.js';
import { GPU_ALERTS } from '../../alerts/src/areas/gpu.js';
import { PROBE_ALERTS } from '../../alerts/src/areas/probe.js';
import { QUALITY_ALERTS } from '../../alerts/src/areas/quality.js';
import { RUNTIME_ALERTS } from '../../alerts/src/areas/runtime.js';
import { SLO_ALERTS } from '../../alerts/src/areas/slo.js';
/** What an incident touches: one GPU, one runtime, or the node as a whole. */
export type IncidentScope = 'gpu' | 'runtime' | 'node';

export interface IncidentInfo {
  readonly scope: IncidentScope;
  /** What happens, in a line. */
  readonly summary: string;
  /** Shipped alerts it fires within a few minutes (those whose `for` is 2 minutes or less). */
  readonly fires: readonly string[];
  /** Shipped alerts it starts whose `for` is long: they go pending (promtool proves the rest). */
  readonly pending: readonly string[];
}

/** The incidents a simulated node can be put into, and what the bundle is expected to say. */
export const INCIDENTS = {
  'xid-fatal': {
    scope: 'gpu',
    summary: 'the kernel logs a fatal Xid 48 (double-bit ECC error) for a GPU',
    fires: [GPU_ALERTS.gpuXidFatal.name],
    pending: [],
  },
  xid: {
    scope: 'gpu',
    summary: 'the kernel logs a non-fatal Xid 13 (graphics engine exception) for a GPU',
    fires: [GPU_ALERTS.gpuXidNonFatal.name],
    pending: [],
  },
  'gpu-lost': {
    scope: 'gpu',
    summary: 'a GPU falls off the bus: Xid 79 in the kernel log, gone from nvidia-smi and DCGM',
    fires: [GPU_ALERTS.gpuLost.name, GPU_ALERTS.gpuXidFatal.name],
    pending: [],
  },
  'ecc-uncorrectable': {
    scope: 'gpu',
    summary: "a GPU's volatile uncorrectable ECC error count goes from 0 to 1",
    fires: [GPU_ALERTS.gpuMemoryUncorrectable.name],
    pending: [],
  },
  'nvlink-errors': {
    scope: 'gpu',
    summary: "a GPU's NVLink CRC errors climb by 40 a second (DCGM)",
    fires: [GPU_ALERTS.gpuNVLinkErrors.name],
    pending: [],
  },
  'thermal-throttle': {
    scope: 'gpu',
    summary: 'a GPU runs at 92 C with its hardware thermal slowdown active',
    fires: [],
    pending: [GPU_ALERTS.gpuThermalThrottle.name],
  },
  'recovery-action': {
    scope: 'gpu',
    summary: "a GPU's driver asks for a GPU reset (nvidia-smi gpu_recovery_action: GPU Reset)",
    fires: [GPU_ALERTS.gpuRecoveryAction.name],
    pending: [],
  },
  'pcie-degraded': {
    scope: 'gpu',
    summary: "a GPU's PCIe link trains at x8 in an x16 slot",
    fires: [],
    pending: [GPU_ALERTS.gpuPCIeLinkDegraded.name],
  },
  'host-oom': {
    scope: 'node',
    summary: "the kernel's OOM killer kills a process",
    fires: [HOST_ALERTS.hostOOMKill.name],
    pending: [],
  },
  'cuda-oom': {
    scope: 'runtime',
    summary: 'the runtime logs torch.OutOfMemoryError: CUDA out of memory',
    fires: [RUNTIME_ALERTS.cudaOutOfMemory.name],
    pending: [],
  },
  saturation: {
    scope: 'runtime',
    summary:
      'the runtime saturates: 80-120 requests queue, KV cache full, preemptions, slow TTFT; the probe stands aside',
    fires: [SLO_ALERTS.ttftBudgetBurn.name, PROBE_ALERTS.probeSkipped.name],
    pending: [RUNTIME_ALERTS.kvCacheSaturated.name, RUNTIME_ALERTS.queueBacklog.name],
  },
  'slow-first-token': {
    scope: 'runtime',
    summary:
      'a proxied Ollama (no metrics of its own) takes 3 s to its first token: the metering proxy sees what its users get',
    fires: [SLO_ALERTS.ttftBudgetBurn.name],
    pending: [],
  },
  'runtime-errors': {
    scope: 'runtime',
    summary: 'the runtime answers every request with HTTP 500',
    fires: [SLO_ALERTS.availabilityBudgetBurn.name],
    pending: [PROBE_ALERTS.probeFailing.name],
  },
  'wrong-answers': {
    scope: 'runtime',
    summary: "the runtime's model answers the canary questions wrong",
    fires: [PROBE_ALERTS.canaryMismatch.name],
    pending: [],
  },
  'quality-regression': {
    scope: 'runtime',
    summary:
      "the runtime is upgraded and its model now gets most evaluation questions wrong, the canaries' still right: the evaluation run the upgrade starts pages",
    fires: [QUALITY_ALERTS.qualityRegression.name],
    pending: [],
  },
  'model-swap': {
    scope: 'runtime',
    summary: 'the runtime is restarted with another model: the one it served is gone',
    fires: [RUNTIME_ALERTS.modelUnavailable.name],
    pending: [],
  },
  'template-change': {
    scope: 'runtime',
    summary:
      "the runtime is upgraded and its chat template changes: the probe's prompt counts more tokens",
    fires: [PROBE_ALERTS.probePromptTokensChanged.name],
    pending: [],
  },
  'runtime-flap': {
    scope: 'runtime',
    summary: 'the runtime goes down and up every 4 seconds, 4 times over',
    fires: [RUNTIME_ALERTS.runtimeFlapping.name],
    pending: [],
  },
  'budget-cut': {
    scope: 'node',
    summary:
      "the node's monthly budget is cut to 10 USD, below what it spends (the agent's config rewritten and reloaded)",
    fires: [],
    pending: [COST_ALERTS.spendAboveBudget.name],
  },
  'nvidia-smi-hang': {
    scope: 'node',
    summary:
      'nvidia-smi hangs: it stays alive and prints nothing (dcgm-exporter, where there is one, still answers)',
    fires: [],
    pending: [AGENT_ALERTS.collectorFailing.name],
  },
} as const satisfies Record<string, IncidentInfo>;

export type IncidentName = keyof typeof INCIDENTS;

export const INCIDENT_NAMES = Object.keys(INCIDENTS) as IncidentName[];

export function isIncident(name: string): name is IncidentName {
  return Object.hasOwn(INCIDENTS, name);
}
