import { splitHostPort } from '../../core/listen.js';
import { proxiedTargetName } from '../../proxy/targets.js';
import type { CollectorFactory } from '../../shared/collector-factory.js';
import { RuntimesCollector, type ProxiedTarget, type TargetConfig } from './collector.js';
import { DEFAULT_PORTS } from './discovery.js';
import { hostPort } from './target-name.js';
import { RUNTIME_METRICS } from './metrics.js';

export const runtimes: CollectorFactory = {
  name: 'runtimes',
  metrics: RUNTIME_METRICS,
  create(config, deps) {
    const c = config.collectors.runtimes;
    if (!c.enabled) return [];
    const targets: TargetConfig[] = c.targets.map((t) => ({
      kind: t.kind,
      url: t.url,
      name: t.name,
      headers: t.headers,
      apiKeyFile: t.api_key_file,
      apiKeyEnv: t.api_key_env,
    }));
    // A proxy route's runtime is read like a configured one, under the route's target name,
    // unless a configured target already has that name (it is the same runtime).
    const routes = config.proxy.routes;
    for (const route of routes) {
      const name = proxiedTargetName(route, config);
      if (targets.some((t) => (t.name ?? hostPort(t.url)) === name)) continue;
      targets.push({ kind: route.runtime, url: route.upstream, name, headers: {} });
    }
    const proxied = new Map<string, ProxiedTarget>(
      routes.map((r) => [proxiedTargetName(r, config), { maxConcurrency: r.max_concurrency }]),
    );
    // The proxy answers as its runtime does: discovery must not find it as a second runtime.
    const routePorts = new Set(routes.map((r) => splitHostPort(r.listen).port));
    return [
      new RuntimesCollector(
        {
          targets,
          timeoutMs: c.timeout_ms,
          maxBodyBytes: c.max_body_bytes,
          maxModels: c.max_models,
          maxStalenessMs: config.collectors.max_staleness_ms,
          refreshIntervalMs: c.refresh_interval_s * 1000,
          discovery: c.discovery.enabled
            ? {
                host: c.discovery.host,
                ports: (c.discovery.ports ?? DEFAULT_PORTS).filter((p) => !routePorts.has(p)),
                timeoutMs: c.discovery.timeout_ms,
              }
            : undefined,
          proxied,
        },
        deps,
      ),
    ];
  },
};
