import { formatHostPort } from '../core/listen.js';
import type { GenerationSurface } from '../shared/generation-api.js';

export interface RouteSettings {
  readonly listen: { readonly host: string; readonly port: number };
  /** Where a client on this node reaches it. */
  readonly url: string;
  readonly upstream: URL;
  readonly runtime: string;
  /** How the runtime serves generations: which requests are measured, and how. */
  readonly generation: GenerationSurface;
  /** The target label of what it measures. */
  readonly target: string;
  readonly preserveHost: boolean;
  readonly maxStreams: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/** What a route counts about itself, for inferwatch_proxy_*. */
export function newRouteCounts(): RouteCounts {
  return { responses: new Map(), refused: 0, upstreamFailures: new Map() };
}

export interface RouteCounts {
  /** Requests by the status the client got; 0: none (the client left, or the answer broke). */
  readonly responses: Map<number, number>;
  /** Requests answered 503 by the proxy itself, at max_streams. */
  refused: number;
  /** Upstream failures by reason: unreachable, timeout, reset. */
  readonly upstreamFailures: Map<string, number>;
}

export function listenAddress(settings: Pick<RouteSettings, 'listen'>): string {
  return formatHostPort(settings.listen.host, settings.listen.port);
}

export function routeKey(settings: Pick<RouteSettings, 'listen' | 'upstream'>): string {
  return `${settings.listen.host}:${settings.listen.port}>${settings.upstream.href}`;
}
