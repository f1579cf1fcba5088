import type { CollectorFactory } from '../../shared/collector-factory.js';
import { HostCollector } from './collector.js';
import { HOST_METRICS } from './metrics.js';

export const host: CollectorFactory = {
  name: 'host',
  metrics: HOST_METRICS,
  create(config) {
    const c = config.collectors.host;
    if (!c.enabled) return [];
    return [new HostCollector({ procPath: c.proc_path, filesystemPaths: c.filesystem_paths })];
  },
};
