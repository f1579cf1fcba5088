import { PAGED_XIDS } from '../../agent/shared/gpu-metrics.js';
import { ADAPTERS } from '../../agent/collectors/runtimes/adapters/index.js';
import { BURN_TIERS, round } from './rules.js';
import type { RuleSettings } from './settings.js';

const percent = (ratio: number) => `${round(ratio * 100)}%`;

/** 144, 145, 146 as 144-146: the paged Xids as a person reads them. */
function ranges(codes: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < codes.length;) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === (codes[j] as number) + 1) j++;
    out.push(j - i >= 2 ? `${codes[i]}-${codes[j]}` : codes.slice(i, j + 1).join(', '));
    i = j + 1;
  }
  return out.join(', ');
}

function burnTiers(): string {
  const tier = (t: (typeof BURN_TIERS)[number]) => `${t.factor}x (${t.long} and ${t.short})`;
  const pages = BURN_TIERS.filter((t) => t.severity === 'critical').map(tier);
  const tickets = BURN_TIERS.filter((t) => t.severity === 'warning').map(tier);
  return `${pages.join(' and ')} page, ${tickets.join(' and ')} ticket`;
}

/**
 * When each alert fires, for a person: the README's alert table is made from these and the
 * rules themselves (severity, `for`), with the thresholds of the settings the rules were made
 * from. A test fails when an alert has no line here, or a line no alert.
 */
export const ALERT_CONDITIONS: Readonly<Record<string, (s: RuleSettings) => string>> = {
  LLMNodeGPUXidFatal: () =>
    `an Xid whose NVIDIA action is reset, reboot or drain (${ranges(PAGED_XIDS)}), held 30m`,
  LLMNodeGPUXidNonFatal: () => 'any other Xid in the last hour',
  LLMNodeGPULost: () =>
    'a GPU seen in the last hour is gone while the agent answers (also when every GPU is gone)',
  LLMNodeGPUMemoryUncorrectable: () =>
    'uncorrectable ECC errors rose, or a row remap failed, held 30m',
  LLMNodeGPURemapPending: () => 'a row remap or page retirement waits for a GPU reset',
  LLMNodeGPUThermalThrottle: (s) =>
    `thermal slowdown more than ${percent(s.gpu.thermal_throttle_ratio)} of 15m`,
  LLMNodeGPUPowerThrottle: (s) =>
    `a hardware power brake, or at the software cap more than ${percent(s.gpu.power_cap_ratio)} of 30m`,
  LLMNodeGPUNVLinkErrors: (s) =>
    `NVLink CRC-data, replay and recovery errors above ${s.gpu.nvlink_errors_per_hour} an hour (needs dcgm-exporter)`,
  LLMNodeKVCacheSaturated: (s) =>
    `KV cache above ${percent(s.runtime.kv_cache_saturated_ratio)} with requests waiting or preempted`,
  LLMNodeQueueBacklog: (s) =>
    `more than ${s.runtime.queue_backlog_factor}x the concurrency waiting (${s.runtime.queue_backlog_requests} where it is unknown)`,
  LLMNodeGPUMemoryExhausted: (s) => {
    const names = s.runtime.on_demand_runtimes.map(
      (kind) => ADAPTERS.find((a) => a.kind === kind)?.title ?? kind,
    );
    return `GPU memory above ${percent(s.gpu.memory_exhausted_ratio)} on a GPU an on-demand runtime (${names.join(', ')}) uses`;
  },
  LLMNodeAvailabilityBudgetBurn: (s) =>
    `failed or rejected requests burn the ${percent(s.slo.availability_objective)} budget: ${burnTiers()}; quiet under ${s.slo.min_requests_per_second} req/s`,
  LLMNodeTTFTBudgetBurn: (s) =>
    `requests over ${s.slo.ttft_seconds} s to the first token burn the ${percent(s.slo.ttft_objective)} budget, same tiers`,
  LLMNodeProbeFailing: () => 'the latency probe fails',
  LLMNodeCanaryMismatch: (s) =>
    `${s.probe.canary_mismatches_per_hour} or more wrong canary answers in an hour`,
  LLMNodeProbePromptTokensChanged: () =>
    'the same probe prompt counts other tokens (chat template or tokenizer changed), held 1h',
  LLMNodeQualityRegression: (s) =>
    `an evaluation suite's pass ratio fell more than ${round(s.quality.regression_margin * 100)} points below its baseline, beyond chance (the upper bound of its interval, 95% by default), after a change or on the schedule`,
  LLMNodeProbeSkipped: (s) =>
    `the latency probe was skipped ${s.probe.skipped_runs} times in a row (runtime saturated, model not loaded, backing off): nothing measures what users get`,
  LLMNodeHostOOMKill: () => 'the kernel OOM killer killed a process, held 15m',
  LLMNodeCUDAOutOfMemory: () => 'a runtime logged CUDA out of memory, held 15m',
  LLMNodeRuntimeDown: () =>
    'a runtime is down: it refuses or resets connections, or answers errors',
  LLMNodeRuntimeUnresponsive: () =>
    'a runtime takes connections but does not answer the agent in time (saturated or hung, not down)',
  LLMNodeModelUnavailable: () =>
    'a model served in the last hour has no runtime serving it on any node (Ollama left out)',
  LLMNodeRuntimeFlapping: (s) =>
    `a runtime went up or down ${s.runtime.flaps_per_30m * 2} times in 30m (crash-looping)`,
  LLMNodeAgentDown: () => 'Prometheus cannot scrape an agent, or has no agent target at all',
  LLMNodeHostDown: () => 'neither node_exporter nor the agent answers on a node',
  LLMNodeCollectorFailing: () => 'a collector has failed (its metrics are missing)',
  LLMNodeEnergyPerTokenAnomaly: (s) =>
    `GPU energy per generated token ${s.cost.energy_per_token_factor}x the same hour last week`,
  LLMNodeGPUsIdle: (s) =>
    `GPUs under ${percent(s.cost.idle_utilization_ratio)} and fewer than ${s.cost.idle_requests} requests an hour, every hour`,
  LLMNodeCostAboveAPIReference: () =>
    'the node costs more per hour than an API would charge for the same tokens',
  Watchdog: () => 'always: the heartbeat of the alerting pipeline',
};
