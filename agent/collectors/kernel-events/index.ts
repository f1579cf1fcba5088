import type { CollectorFactory } from '../../shared/collector-factory.js';
import { KernelEventsCollector } from './collector.js';
import { GPU_XID_ERRORS } from '../../shared/gpu-metrics.js';
import { OOM_KILL_VICTIMS } from './metrics.js';

export const kernelEvents: CollectorFactory = {
  name: 'kernel_events',
  metrics: [OOM_KILL_VICTIMS],
  feeds: [GPU_XID_ERRORS],
  create(config, deps) {
    const c = config.collectors.kernel_events;
    if (!c.enabled) return [];
    return [
      new KernelEventsCollector(
        {
          dmesgCommand: c.dmesg_command,
          journalctlCommand: c.journalctl_command,
          backoff: { initialMs: c.restart_backoff.initial_ms, maxMs: c.restart_backoff.max_ms },
        },
        deps,
      ),
    ];
  },
};
