import type { CollectorFactory } from '../registry.js';
import { RuntimesCollector } from './collector.js';
import { DEFAULT_PORTS } from './discovery.js';
import { RUNTIME_METRICS } from './metrics.js';

export const runtimes: CollectorFactory = {
  name: 'runtimes',
  metrics: RUNTIME_METRICS,
  create(config, deps) {
    const c = config.collectors.runtimes;
    if (!c.enabled) return [];
    return [
      new RuntimesCollector(
        {
          targets: c.targets.map((t) => ({
            kind: t.kind,
            url: t.url,
            name: t.name,
            headers: t.headers,
            apiKeyFile: t.api_key_file,
            apiKeyEnv: t.api_key_env,
          })),
          timeoutMs: c.timeout_ms,
          maxBodyBytes: c.max_body_bytes,
          maxModels: c.max_models,
          maxStalenessMs: config.collectors.max_staleness_ms,
          refreshIntervalMs: c.refresh_interval_s * 1000,
          discovery: c.discovery.enabled
            ? {
                host: c.discovery.host,
                ports: c.discovery.ports ?? DEFAULT_PORTS,
                timeoutMs: c.discovery.timeout_ms,
              }
            : undefined,
        },
        deps,
      ),
    ];
  },
};
