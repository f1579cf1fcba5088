/**
 * The agent's metric families, by the room that defines them: the rules and panels write PromQL
 * from these definitions (see promql.ts), so renaming a family breaks the build, not a scrape.
 */
export * as cost from '../../agent/collectors/cost/metrics.js';
export * as dcgm from '../../agent/collectors/dcgm/metrics.js';
export * as gpu from '../../agent/shared/gpu-metrics.js';
export * as host from '../../agent/collectors/host/metrics.js';
export * as kernel from '../../agent/collectors/kernel-events/metrics.js';
export * as logs from '../../agent/collectors/runtime-logs/metrics.js';
export * as llm from '../../agent/collectors/runtimes/metrics.js';
export * as probe from '../../agent/probe/metrics.js';
export * as proxy from '../../agent/proxy/metrics.js';
export * as quality from '../../agent/eval/metrics.js';
export * as self from '../../agent/core/self-metrics.js';
export * as smi from '../../agent/collectors/nvidia-smi/metrics.js';
