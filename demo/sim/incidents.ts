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
    fires: ['LLMNodeGPUXidFatal'],
    pending: [],
  },
  xid: {
    scope: 'gpu',
    summary: 'the kernel logs a non-fatal Xid 13 (graphics engine exception) for a GPU',
    fires: ['LLMNodeGPUXidNonFatal'],
    pending: [],
  },
  'gpu-lost': {
    scope: 'gpu',
    summary: 'a GPU falls off the bus: Xid 79 in the kernel log, gone from nvidia-smi and DCGM',
    fires: ['LLMNodeGPULost', 'LLMNodeGPUXidFatal'],
    pending: [],
  },
  'ecc-uncorrectable': {
    scope: 'gpu',
    summary: "a GPU's volatile uncorrectable ECC error count goes from 0 to 1",
    fires: ['LLMNodeGPUMemoryUncorrectable'],
    pending: [],
  },
  'nvlink-errors': {
    scope: 'gpu',
    summary: "a GPU's NVLink CRC errors climb by 40 a second (DCGM)",
    fires: ['LLMNodeGPUNVLinkErrors'],
    pending: [],
  },
  'thermal-throttle': {
    scope: 'gpu',
    summary: 'a GPU runs at 92 C with its hardware thermal slowdown active',
    fires: [],
    pending: ['LLMNodeGPUThermalThrottle'],
  },
  'host-oom': {
    scope: 'node',
    summary: "the kernel's OOM killer kills a process",
    fires: ['LLMNodeHostOOMKill'],
    pending: [],
  },
  'cuda-oom': {
    scope: 'runtime',
    summary: 'the runtime logs torch.OutOfMemoryError: CUDA out of memory',
    fires: ['LLMNodeCUDAOutOfMemory'],
    pending: [],
  },
  saturation: {
    scope: 'runtime',
    summary:
      'the runtime saturates: 80-120 requests queue, KV cache full, preemptions, slow TTFT; the probe stands aside',
    fires: ['LLMNodeTTFTBudgetBurn', 'LLMNodeProbeSkipped'],
    pending: ['LLMNodeKVCacheSaturated', 'LLMNodeQueueBacklog'],
  },
  'slow-first-token': {
    scope: 'runtime',
    summary:
      'a proxied Ollama (no metrics of its own) takes 3 s to its first token: the metering proxy sees what its users get',
    fires: ['LLMNodeTTFTBudgetBurn'],
    pending: [],
  },
  'runtime-errors': {
    scope: 'runtime',
    summary: 'the runtime answers every request with HTTP 500',
    fires: ['LLMNodeAvailabilityBudgetBurn'],
    pending: ['LLMNodeProbeFailing'],
  },
  'wrong-answers': {
    scope: 'runtime',
    summary: "the runtime's model answers the canary questions wrong",
    fires: ['LLMNodeCanaryMismatch'],
    pending: [],
  },
  'quality-regression': {
    scope: 'runtime',
    summary:
      "the runtime is upgraded and its model now gets most evaluation questions wrong, the canaries' still right: the evaluation run the upgrade starts pages",
    fires: ['LLMNodeQualityRegression'],
    pending: [],
  },
  'model-swap': {
    scope: 'runtime',
    summary: 'the runtime is restarted with another model: the one it served is gone',
    fires: ['LLMNodeModelUnavailable'],
    pending: [],
  },
  'template-change': {
    scope: 'runtime',
    summary:
      "the runtime is upgraded and its chat template changes: the probe's prompt counts more tokens",
    fires: ['LLMNodeProbePromptTokensChanged'],
    pending: [],
  },
  'runtime-flap': {
    scope: 'runtime',
    summary: 'the runtime goes down and up every 4 seconds, 4 times over',
    fires: ['LLMNodeRuntimeFlapping'],
    pending: [],
  },
  'nvidia-smi-hang': {
    scope: 'node',
    summary:
      'nvidia-smi hangs: it stays alive and prints nothing (dcgm-exporter, where there is one, still answers)',
    fires: [],
    pending: ['LLMNodeCollectorFailing'],
  },
} as const satisfies Record<string, IncidentInfo>;

export type IncidentName = keyof typeof INCIDENTS;

export const INCIDENT_NAMES = Object.keys(INCIDENTS) as IncidentName[];

export function isIncident(name: string): name is IncidentName {
  return Object.hasOwn(INCIDENTS, name);
}
