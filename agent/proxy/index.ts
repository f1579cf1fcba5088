import type { CollectorFactory } from '../shared/collector-factory.js';
import { splitHostPort } from '../core/listen.js';
import { ProxyCollector } from './collector.js';
import { PROXY_METRICS } from './metrics.js';
import { proxiedTargetName, routeUrl } from './targets.js';

export const proxy: CollectorFactory = {
  name: 'proxy',
  metrics: PROXY_METRICS,
  create(config, deps) {
    const c = config.proxy;
    if (c.routes.length === 0) return [];
    return [
      new ProxyCollector(
        {
          routes: c.routes.map((r) => ({
            listen: splitHostPort(r.listen),
            url: routeUrl(r.listen),
            upstream: new URL(r.upstream),
            runtime: r.runtime,
            generation: deps.generationOf(r.runtime),
            target: proxiedTargetName(r, config),
            preserveHost: r.preserve_host,
            maxStreams: c.max_streams,
            connectTimeoutMs: c.connect_timeout_ms,
            idleTimeoutMs: c.idle_timeout_ms,
          })),
          maxModels: config.collectors.runtimes.max_models,
          serve: c.enabled,
        },
        deps,
      ),
    ];
  },
};
