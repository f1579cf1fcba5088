import { existsSync } from 'node:fs';
import type { AgentConfig } from '../../config/load.js';
import type { CollectorFactory } from '../../shared/collector-factory.js';
import { KubernetesCollector, NodeUnknown } from './collector.js';
import { GPU_POD, KUBERNETES_METRICS } from './metrics.js';
import { PodResourcesCollector } from './pod-resources/collector.js';

type KubernetesSettings = AgentConfig['collectors']['kubernetes'];

/** Where the agent runs in a pod, what the cluster told it; undefined outside one. */
export function inCluster(
  c: KubernetesSettings,
  env: Readonly<Record<string, string | undefined>>,
  exists: (path: string) => boolean = existsSync,
): { apiUrl: string; nodeName: string | undefined } | undefined {
  if (c.enabled === false) return undefined;
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  const apiUrl =
    c.api_url ?? (host ? `https://${host.includes(':') ? `[${host}]` : host}:${port}` : undefined);
  if (c.enabled === 'auto' && (!host || !exists(c.token_file))) return undefined;
  if (!apiUrl) return undefined;
  return { apiUrl, nodeName: c.node_name ?? env['NODE_NAME'] };
}

export const kubernetes: CollectorFactory = {
  name: 'kubernetes',
  metrics: [...KUBERNETES_METRICS, GPU_POD],
  create(config, deps) {
    const c = config.collectors.kubernetes;
    const cluster = inCluster(c, process.env);
    const built = [];
    if (cluster?.nodeName) {
      built.push(
        new KubernetesCollector(
          {
            api: {
              url: cluster.apiUrl,
              tokenFile: existsSync(c.token_file) ? c.token_file : undefined,
              caFile: existsSync(c.ca_file) ? c.ca_file : undefined,
              timeoutMs: c.timeout_ms,
              maxListBytes: c.max_list_bytes,
              maxEventBytes: Math.min(c.max_list_bytes, 4 * 1024 * 1024),
            },
            watch: {
              nodeName: cluster.nodeName,
              maxPods: c.max_pods,
              watchSeconds: 300,
              backoff: { initialMs: 1000, maxMs: 60_000 },
            },
          },
          deps,
        ),
      );
    } else if (cluster) built.push(new NodeUnknown(deps.stateLog));
    const pr = c.pod_resources;
    if (pr.enabled === true || (pr.enabled === 'auto' && cluster && existsSync(pr.socket)))
      built.push(
        new PodResourcesCollector({ socket: pr.socket, intervalMs: pr.interval_s * 1000 }, deps),
      );
    return built;
  },
};
