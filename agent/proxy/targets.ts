import type { AgentConfig } from '../config/load.js';
import { hostPort } from '../collectors/runtimes/target-name.js';
import { formatHostPort, splitHostPort } from '../core/listen.js';

type Route = AgentConfig['proxy']['routes'][number];

/**
 * The target label of a route: its name; else the name of the configured runtime target at
 * its upstream URL; else the upstream's host:port, the name the runtimes collector gives it.
 * Either way the proxy's figures and the runtime's own share one target.
 */
export function proxiedTargetName(
  route: Pick<Route, 'name' | 'upstream'>,
  config: {
    readonly collectors: {
      readonly runtimes: {
        readonly targets: readonly { readonly url: string; readonly name?: string | undefined }[];
      };
    };
  },
): string {
  if (route.name !== undefined) return route.name;
  const configured = config.collectors.runtimes.targets.find(
    (t) => t.url.replace(/\/+$/, '') === route.upstream.replace(/\/+$/, ''),
  );
  return configured ? (configured.name ?? hostPort(configured.url)) : hostPort(route.upstream);
}

/** The URL a client on this node uses for a route: its address, loopback for a wildcard. */
export function routeUrl(listen: string): string {
  const { host, port } = splitHostPort(listen);
  const wildcard = host === '0.0.0.0' || host === '::';
  return `http://${formatHostPort(wildcard ? '127.0.0.1' : host, port)}`;
}
