import type { CollectorFactory } from '../../shared/collector-factory.js';
import { RuntimeLogsCollector } from './collector.js';
import { CUDA_OOM_EVENTS } from './metrics.js';

export const runtimeLogs: CollectorFactory = {
  name: 'runtime_logs',
  metrics: [CUDA_OOM_EVENTS],
  create(config, deps) {
    const c = config.collectors.runtime_logs;
    // Nothing to follow until logs are configured (runtime discovery may add them later).
    if (!c.enabled || c.sources.length === 0) return [];
    return [
      new RuntimeLogsCollector(
        {
          sources: c.sources.map((s) => ({
            runtime: s.runtime,
            target: s.target,
            path: s.path,
            journaldUnit: s.journald_unit,
          })),
          pollIntervalMs: c.poll_interval_ms,
          journalctlCommand: c.journalctl_command,
          backoff: { initialMs: c.restart_backoff.initial_ms, maxMs: c.restart_backoff.max_ms },
        },
        deps,
      ),
    ];
  },
};
