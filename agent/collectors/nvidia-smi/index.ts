import type { CollectorFactory } from '../../shared/collector-factory.js';
import { GPU_FEEDS, NvidiaSmiCollector } from './collector.js';
import { ComputeAppsCollector } from './compute-apps.js';
import { GPU_COUNT, GPU_PROCESS_MEMORY_USED } from './metrics.js';
import { ProcessOwners } from './process-owners.js';

export const nvidiaSmi: CollectorFactory = {
  name: 'nvidia_smi',
  metrics: [GPU_COUNT, GPU_PROCESS_MEMORY_USED],
  feeds: GPU_FEEDS,
  create(config, deps) {
    const c = config.collectors.nvidia_smi;
    if (!c.enabled) return [];
    const backoff = { initialMs: c.restart_backoff.initial_ms, maxMs: c.restart_backoff.max_ms };
    const gpus = new NvidiaSmiCollector(
      {
        command: c.command,
        intervalMs: c.interval_ms,
        silenceIntervals: c.silence_intervals,
        startTimeoutMs: c.start_timeout_ms,
        backoff,
      },
      deps,
    );
    if (!c.processes.enabled) return [gpus];
    const processes = new ComputeAppsCollector(
      {
        command: c.command,
        intervalMs: c.processes.interval_ms,
        startTimeoutMs: c.start_timeout_ms,
        backoff,
        endpoints: deps.runtimeEndpoints,
        pods: deps.nodePods,
        ...(c.processes.runtime_attribution
          ? {
              owners: new ProcessOwners(config.collectors.host.proc_path, () =>
                deps.clock.monotonicMs(),
              ),
            }
          : {}),
      },
      () => gpus.current,
      deps,
    );
    return [gpus, processes];
  },
};
