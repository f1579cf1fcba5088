import type { CollectorDeps } from '../shared/collector-factory.js';
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
import { ProxyRoute } from './route.js';
import { listenAddress, routeKey, type RouteSettings } from './route-settings.js';

export interface ProxyOptions {
  readonly routes: readonly RouteSettings[];
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
  private readonly generation: number | undefined;
  private readonly routes: ProxyRoute[] = [];

  constructor(
    private readonly options: ProxyOptions,
    private readonly deps: CollectorDeps,
  ) {
    this.pool = deps.durable.get('proxy/routes', () => new RoutePool());
    // Claimed now, before the agent this one replaces stops: kept routes stay open.
    this.generation = options.serve ? this.pool.claim(options.routes.map(routeKey)) : undefined;
  }

  async start(): Promise<void> {
    if (!this.options.serve) return;
    const world = { clock: this.deps.clock, logger: this.deps.logger };
    await Promise.all(
      this.options.routes.map(async (settings) => {
        const ledger = this.deps.traffic.ledger(
          settings.runtime,
          settings.target,
          this.options.maxModels,
        );
        const kept = this.pool.get(routeKey(settings));
        if (kept) {
          kept.update(settings, ledger);
          this.routes.push(kept);
          if (!kept.problem) this.deps.traffic.routeListening(settings.target, settings.url);
          return;
        }
        const route = new ProxyRoute(
          settings,
          ledger,
          this.pool.countsOf(listenAddress(settings), settings.target),
          world,
        );
        this.pool.add(route);
        this.routes.push(route);
        await route.listen();
        if (route.problem) return;
        this.deps.traffic.routeListening(settings.target, settings.url);
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
        { ...labels, runtime: route.settings.runtime },
        route.problem ? 0 : 1,
      );
      out.emit(PROXY_STREAMS, labels, route.streams);
      out.emit(PROXY_MAX_STREAMS, labels, route.settings.maxStreams);
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
    const routes = this.options.routes;
    const describe = (s: RouteSettings) =>
      `${listenAddress(s)} -> ${s.upstream.href} (${s.runtime}), target ${s.target}`;
    const lines = this.routes.length
      ? this.routes.map((r) =>
          r.problem
            ? `${describe(r.settings)}; problem: ${r.problem}`
            : `${describe(r.settings)}; ${r.streams} in flight`,
        )
      : routes.map(
          (s) =>
            `${describe(s)}; not served here (only 'inferwatch run' with proxy.enabled serves it)`,
        );
    const failing = this.routes.filter((r) => r.problem).length;
    return {
      state: failing ? 'failing' : 'ok',
      detail: `${routes.length} route${routes.length === 1 ? '' : 's'}${failing ? `, ${failing} not listening` : ''}; what each measures: see runtimes`,
      lines,
    };
  }
}
