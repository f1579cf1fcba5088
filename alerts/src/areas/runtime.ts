import { logs } from '../metrics.js';
import { z } from 'zod';
import { ADAPTERS, RUNTIME_KINDS } from '../../../agent/collectors/runtimes/adapters/index.js';
import { gpu, llm, smi } from '../metrics.js';
import { promql } from '../promql.js';
import { defineAlert, percent, type Area } from '../rule.js';
import { ratio } from '../settings-fields.js';

/** The runtime area's thresholds: `runtime:` in the settings file. */
export const RUNTIME_SETTINGS = z.strictObject({
  kv_cache_saturated_ratio: ratio,
  queue_backlog_factor: z.number().positive(),
  queue_backlog_requests: z.number().positive(),
  on_demand_runtimes: z.array(z.enum(RUNTIME_KINDS)).min(1),
  flaps_per_30m: z.int().min(1),
  unresponsive_for: z.string().regex(/^\d+[smh]$/, 'must be a Prometheus duration, such as 10m'),
});

export const RUNTIME_ALERTS = {
  cudaOutOfMemory: defineAlert(
    'LLMNodeCUDAOutOfMemory',
    'warning',
    'runtime',
    () => 'a runtime logged CUDA out of memory, held 15m',
  ),
  kvCacheSaturated: defineAlert(
    'LLMNodeKVCacheSaturated',
    'warning',
    'runtime',
    (s) =>
      `KV cache above ${percent(s.runtime.kv_cache_saturated_ratio)} with requests waiting or preempted`,
  ),
  queueBacklog: defineAlert(
    'LLMNodeQueueBacklog',
    'warning',
    'runtime',
    (s) =>
      `more than ${s.runtime.queue_backlog_factor}x the concurrency waiting (${s.runtime.queue_backlog_requests} where it is unknown)`,
  ),
  gpuMemoryExhausted: defineAlert('LLMNodeGPUMemoryExhausted', 'warning', 'gpu', (s) => {
    const names = s.runtime.on_demand_runtimes.map(
      (kind) => ADAPTERS.find((a) => a.kind === kind)?.title ?? kind,
    );
    return `GPU memory above ${percent(s.gpu.memory_exhausted_ratio)} on a GPU an on-demand runtime (${names.join(', ')}) uses`;
  }),
  runtimeDown: defineAlert(
    'LLMNodeRuntimeDown',
    'warning',
    'runtime',
    () => 'a runtime is down: it refuses or resets connections, or answers errors',
  ),
  runtimeUnresponsive: defineAlert(
    'LLMNodeRuntimeUnresponsive',
    'warning',
    'runtime',
    () =>
      'a runtime takes connections but does not answer the agent in time (saturated or hung, not down)',
  ),
  modelUnavailable: defineAlert(
    'LLMNodeModelUnavailable',
    'critical',
    'runtime',
    () => 'a model served in the last hour has no runtime serving it on any node (Ollama left out)',
  ),
  runtimeFlapping: defineAlert(
    'LLMNodeRuntimeFlapping',
    'warning',
    'runtime',
    (s) => `a runtime went up or down ${s.runtime.flaps_per_30m * 2} times in 30m (crash-looping)`,
  ),
} as const;

/** The runtimes: down, unresponsive, flapping, a model gone, and their capacity. */
export const runtimeArea: Area = {
  name: 'runtime',
  alerts: Object.values(RUNTIME_ALERTS),
  tests: ['runtime.test.yml'],
  groups: (s, { alert }) => {
    const onDemand = s.runtime.on_demand_runtimes.join('|');
    return [
      {
        name: 'inferwatch-capacity',
        rules: [
          alert(
            RUNTIME_ALERTS.kvCacheSaturated,
            promql`
${llm.KV_CACHE_USAGE} > ${s.runtime.kv_cache_saturated_ratio}
  and on (instance, runtime, target, model) (
    rate(${llm.PREEMPTIONS}[5m]) > 0
      or ${llm.REQUESTS_WAITING} > 0
  )`,
            {
              summary: 'The KV cache is full and requests are queued or preempted.',
              description:
                '{{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) has its KV cache {{ $value | humanizePercentage }} full while requests wait or are preempted.',
            },
            { for: '10m' },
          ),
          alert(
            RUNTIME_ALERTS.queueBacklog,
            promql`
${llm.REQUESTS_WAITING} > ${s.runtime.queue_backlog_factor} * ${llm.MAX_CONCURRENCY}
or
(${llm.REQUESTS_WAITING} > ${s.runtime.queue_backlog_requests} unless ${llm.MAX_CONCURRENCY})`,
            {
              summary: 'More requests are waiting than the runtime can take on.',
              description:
                '{{ $value }} requests wait for {{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}).',
            },
            { for: '10m' },
          ),
          alert(
            RUNTIME_ALERTS.gpuMemoryExhausted,
            promql`
${gpu.GPU_MEMORY_USED} / ${gpu.GPU_MEMORY_TOTAL} > ${s.gpu.memory_exhausted_ratio}
  and on (instance, uuid)
  group by (instance, uuid) (${smi.GPU_PROCESS_MEMORY_USED}{runtime=~"${onDemand}"})`,
            {
              summary:
                'GPU memory is nearly full on a GPU used by a runtime that allocates on demand.',
              description:
                'GPU {{ $labels.gpu }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} of its memory in use; the next model or a longer context will not fit.',
            },
            { for: '15m' },
          ),
        ],
      },
      {
        name: 'inferwatch-runtime',
        rules: [
          alert(
            RUNTIME_ALERTS.runtimeDown,
            promql`${llm.RUNTIME_UP} == 0`,
            {
              summary: 'An inference runtime is down: it refuses connections or answers errors.',
              description:
                '{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} has refused the agent, or answered it with errors, for 5m.',
            },
            { for: '5m' },
          ),
          alert(
            RUNTIME_ALERTS.runtimeUnresponsive,
            promql`${llm.RUNTIME_UNRESPONSIVE} == 1`,
            {
              summary:
                'An inference runtime takes connections but does not answer in time: it is saturated or hung, not down.',
              description: `{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} has not answered the agent's reads in time for ${s.runtime.unresponsive_for}; its last figures are being served.`,
            },
            { for: s.runtime.unresponsive_for },
          ),
          alert(
            RUNTIME_ALERTS.modelUnavailable,
            promql`
group by (model) (max_over_time(${llm.RUNTIME_INFO}{runtime!="ollama", model!=""}[1h]))
  unless group by (model) (${llm.RUNTIME_INFO})`,
            {
              summary:
                'A model served in the last hour has no runtime serving it now, on any node.',
              description:
                'No runtime answers for {{ $labels.model }}: every replica the agents saw in the last hour is down or gone.',
            },
            { for: '2m' },
          ),
          alert(
            RUNTIME_ALERTS.cudaOutOfMemory,
            promql`increase(${logs.CUDA_OOM_EVENTS}[10m]) > 0`,
            {
              summary: 'An inference runtime ran out of GPU memory.',
              description:
                '{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} logged {{ $value | printf "%.0f" }} CUDA out-of-memory error(s) in the last 10m.',
            },
            { keep_firing_for: '15m' },
          ),
          alert(
            RUNTIME_ALERTS.runtimeFlapping,
            promql`changes(${llm.RUNTIME_UP}[30m]) >= ${2 * s.runtime.flaps_per_30m}`,
            {
              summary:
                'An inference runtime keeps going down and coming back: it is crash-looping.',
              description:
                '{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} went from up to down or back {{ $value | printf "%.0f" }} times in 30m.',
            },
          ),
        ],
      },
    ];
  },
};
