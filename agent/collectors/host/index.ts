import type { CollectorFactory } from '../../shared/collector-factory.js';
import { HostCollector, systemHostSources } from './collector.js';
import { runHostInventory } from './inventory.js';
import { HOST_METRICS } from './metrics.js';

export const host: CollectorFactory = {
  name: 'host',
  metrics: HOST_METRICS,
  create(config, deps) {
    const c = config.collectors.host;
    if (!c.enabled) return [];
    const { self, runner } = deps;
    return [
      new HostCollector(
        { procPath: c.proc_path, filesystemPaths: c.filesystem_paths },
        systemHostSources,
        self && (() => runHostInventory(runner, self)),
      ),
    ];
  },
};
