import type { RuntimeKind } from '../collectors/runtimes/adapter.js';
import type { CollectorDeps } from '../collectors/registry.js';
import type { Collector, Emitter, SourceStatus } from '../core/collector.js';
import type { MetricDef } from '../core/metric.js';
import {
  PROXY_MAX_STREAMS,
  PROXY_METRICS,
  PROXY_REFUSED,
  PROXY_RESPONSES,
  PROXY_ROUTE_UP,
  PROXY_STREAMS,
  PROXY_UPSTREAM_FAILURES,
} from './metrics.js';
import { RoutePool } from './pool.js';
import { ProxyRoute, routeKey, type RouteSettings } from './route.js';

export interface ProxyRouteConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly upstream: URL;
  /** Where a client on this node reaches the route. */
  readonly url: string;
  readonly runtime: RuntimeKind;
  readonly target: string;
  readonly maxConcurrency?: number | undefined;
  readonly preserveHost: boolean;
}

export interface ProxyOptions {
  readonly routes: readonly ProxyRouteConfig[];
  readonly maxStreams: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Models per target that get series (collectors.runtimes.max_models). */
  readonly maxModels: number;
  /** Listen (under `run`); false: the routes are only described (doctor, once, probe). */
  readonly serve: boolean;
}

/** How long requests in flight may go on once a route is closed (a stop, a route removed). */
const CLOSE_GRACE_MS = 10_000;

/**
 * The metering proxy: its routes (listeners kept through reloads by the pool) and their own
 * counters. What the routes measure goes to the traffic ledgers, which the runtimes collector
 * serves beside the runtimes' own figures.
 */
export class ProxyCollector implements Collector {
  readonly name = 'proxy';
  readonly metrics: readonly MetricDef[] = PROXY_METRICS;
  private readonly pool: RoutePool;
  private readonly settings: readonly RouteSettings[];
  private readonly generation: number | undefined;
  private readonly routes: ProxyRoute[] = [];

  constructor(
    private readonly options: ProxyOptions,
    private readonly deps: CollectorDeps,
  ) {
    this.pool = deps.durable.get('proxy/routes', () => new RoutePool());
    this.settings = options.routes.map((r) => ({
      listen: r.listen,
      upstream: r.upstream,
      runtime: r.runtime,
      target: r.target,
      preserveHost: r.preserveHost,
      maxStreams: options.maxStreams,
      connectTimeoutMs: options.connectTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
    }));
    // Claimed now, before the agent this one replaces stops: kept routes stay open.
    this.generation = options.serve ? this.pool.claim(this.settings.map(routeKey)) : undefined;
  }

  async start(): Promise<void> {
    if (!this.options.serve) return;
    const world = { clock: this.deps.clock, logger: this.deps.logger };
    await Promise.all(
      this.settings.map(async (settings, i) => {
        const ledger = this.deps.traffic.ledger(
          settings.runtime,
          settings.target,
          this.options.maxModels,
        );
        const url = this.options.routes[i]?.url ?? '';
        const kept = this.pool.get(routeKey(settings));
        if (kept) {
          kept.update(settings, ledger);
          this.routes.push(kept);
          if (!kept.problem) this.deps.traffic.routeListening(settings.target, url);
          return;
        }
        const route = new ProxyRoute(
          settings,
          ledger,
          this.pool.countsOf(listenOf(settings), settings.target),
          world,
        );
        this.pool.add(route);
        this.routes.push(route);
        await route.listen();
        if (route.problem) return;
        this.deps.traffic.routeListening(settings.target, url);
        this.deps.logger.info(
          { listen: route.listenAddress, target: settings.target, runtime: settings.runtime },
          'proxy route listening',
        );
      }),
    );
  }

  async stop(): Promise<void> {
    if (this.generation === undefined) return;
    const closed = await this.pool.release(this.generation, CLOSE_GRACE_MS);
    for (const route of closed) this.deps.traffic.routeClosed(route.target);
  }

  collect(out: Emitter): void {
    for (const route of this.routes) {
      const labels = { listen: route.listenAddress, target: route.target };
      out.emit(
        PROXY_ROUTE_UP,
        { ...labels, runtime: this.runtimeOf(route) },
        route.problem ? 0 : 1,
      );
      out.emit(PROXY_STREAMS, labels, route.streams);
      out.emit(PROXY_MAX_STREAMS, labels, this.options.maxStreams);
      out.emit(PROXY_REFUSED, labels, route.counts.refused);
      for (const [code, n] of route.counts.responses)
        out.emit(PROXY_RESPONSES, { ...labels, code: String(code) }, n);
      for (const reason of ['unreachable', 'timeout', 'reset'])
        out.emit(
          PROXY_UPSTREAM_FAILURES,
          { ...labels, reason },
          route.counts.upstreamFailures.get(reason) ?? 0,
        );
    }
    const failing = this.routes.find((r) => r.problem);
    if (failing) out.degrade('listen', failing.problem as string);
  }

  status(): SourceStatus {
    const lines = this.routes.length
      ? this.routes.map((r) => {
          const s = this.settings.find((x) => routeKey(x) === r.key);
          const head = `${r.listenAddress} -> ${s?.upstream.href ?? '?'} (${s?.runtime ?? '?'}), target ${r.target}`;
          return r.problem ? `${head}; problem: ${r.problem}` : `${head}; ${r.streams} in flight`;
        })
      : this.settings.map(
          (s) =>
            `${listenOf(s)} -> ${s.upstream.href} (${s.runtime}), target ${s.target}; not served here (only 'inferwatch run' with proxy.enabled serves it)`,
        );
    const failing = this.routes.filter((r) => r.problem).length;
    return {
      state: failing ? 'failing' : 'ok',
      detail: `${this.settings.length} route${this.settings.length === 1 ? '' : 's'}${failing ? `, ${failing} not listening` : ''}; what each measures: see runtimes`,
      lines,
    };
  }

  private runtimeOf(route: ProxyRoute): string {
    return this.settings.find((s) => routeKey(s) === route.key)?.runtime ?? '';
  }
}

function listenOf(settings: Pick<RouteSettings, 'listen'>): string {
  const { host, port } = settings.listen;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
