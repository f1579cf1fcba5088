import type { CollectorFactory } from '../../shared/collector-factory.js';
import { DCGM_FEEDS, DcgmCollector } from './collector.js';

export const DEFAULT_DCGM_URL = 'http://127.0.0.1:9400/metrics';

export const dcgm: CollectorFactory = {
  name: 'dcgm',
  metrics: [],
  feeds: DCGM_FEEDS,
  create(config, deps) {
    const c = config.collectors.dcgm;
    if (!c.enabled) return [];
    return [
      new DcgmCollector(
        {
          url: c.url ?? DEFAULT_DCGM_URL,
          configured: c.url !== undefined,
          timeoutMs: c.timeout_ms,
          maxStalenessMs: config.collectors.max_staleness_ms,
          maxBodyBytes: c.max_body_bytes,
        },
        deps,
      ),
    ];
  },
};
