import { NO_RUNTIME_TODO, targetsTodo } from './todo.js';
import { every, settledWithin, type TimerHandle } from '../../core/clock.js';
import { type Collector, type Emitter, type SourceStatus } from '../../core/collector.js';
import type { MetricDef } from '../../core/metric.js';
import type { CollectorDeps } from '../../shared/collector-factory.js';
import { hostPort } from './target-name.js';
import type { RuntimeAdapter } from './adapter.js';
import { adapterFor } from './adapters/index.js';
import { runtimeApi } from './api.js';
import { discover, identify } from './discovery.js';
import { PodDiscovery } from './pod-discovery.js';
import { placedByTarget } from '../../shared/place.js';
import type { Place } from '../../shared/pod.js';
import { TargetFolder } from './fold.js';
import { describeTarget } from './describe.js';
import { emitProxied, proxiedConcepts } from './proxied.js';
import { endpointOf } from './endpoint.js';
import { configuredPorts, mergeFound, refreshCredentials, reportSettled } from './targets.js';
import { emitServed } from './emit.js';
import { RUNTIME_LAST_READ, RUNTIME_METRICS, RUNTIME_UNRESPONSIVE, RUNTIME_UP } from './metrics.js';
import { RuntimeTarget, type Standing, type TargetConfig, type TargetLedger } from './target.js';

export type { TargetConfig } from './target.js';

export interface RuntimesOptions {
  readonly targets: readonly TargetConfig[];
  /** Deadline of one request to a runtime. */
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly refreshIntervalMs: number;
  /** Models per runtime that get series; more are left out and counted. */
  readonly maxModels: number;
  /** A runtime's last good figures are served at most this long after they were read. */
  readonly maxStalenessMs: number;
  readonly discovery:
    | { readonly host: string; readonly ports: readonly number[]; readonly timeoutMs: number }
    | undefined;
  /** Targets a metering proxy route fronts, by name, with the concurrency the route declares. */
  readonly proxied: ReadonlyMap<string, ProxiedTarget>;
}

export interface ProxiedTarget {
  readonly maxConcurrency?: number | undefined;
}

const NAME = 'runtimes';
/** Identifying a configured target of no given kind tries every adapter; all of it is bounded. */
const IDENTIFY_BUDGET_MS = 10_000;
/** Pods change in bursts (a rollout): one look after the burst, not one per event. */
const POD_SETTLE_MS = 1000;

/**
 * LLM runtimes: configured targets and the ones discovery found, normalized onto the
 * inferwatch_llm_* families. Each runtime is read ahead of the next scrape (BackgroundRead), so
 * a scrape writes what is known and waits only for a runtime's first read; a runtime whose
 * read runs late is served from its last good figures, with their age. A runtime that is down
 * (refuses, resets) shows as up 0; one that takes the connection and does not answer in time
 * shows as unresponsive, not down. Each costs only its own series.
 */
export class RuntimesCollector implements Collector {
  readonly name = NAME;
  readonly metrics: readonly MetricDef[] = RUNTIME_METRICS;
  private readonly targets = new Map<string, RuntimeTarget>();
  private readonly ledgers: Map<string, TargetLedger>;
  private stopRefreshing: (() => void) | undefined;
  private firstRefresh: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;
  private readonly pods: PodDiscovery;
  private stopWatchingPods: (() => void) | undefined;
  private podLook: TimerHandle | undefined;
  private lookAgain = false;

  constructor(
    private readonly options: RuntimesOptions,
    private readonly deps: CollectorDeps,
  ) {
    this.ledgers = deps.durable.get(`${NAME}/ledgers`, () => new Map<string, TargetLedger>());
    for (const config of options.targets) {
      const name = config.name ?? hostPort(config.url);
      this.targets.set(
        name,
        this.newTarget(name, config.url, config, config.kind ? adapterFor(config.kind) : undefined),
      );
    }
    this.pods = new PodDiscovery(deps.http, {
      timeoutMs: IDENTIFY_BUDGET_MS,
      requestTimeoutMs: options.timeoutMs,
      maxBytes: options.maxBodyBytes,
      retryMs: options.refreshIntervalMs,
      now: () => deps.clock.monotonicMs(),
    });
  }

  start(): Promise<void> {
    this.firstRefresh = this.refresh();
    this.stopRefreshing = every(this.deps.timers, this.options.refreshIntervalMs, () => {
      void this.refresh();
    });
    if (this.options.discovery)
      this.stopWatchingPods = this.deps.nodePods.onChange(() => {
        if (this.podLook) return;
        this.podLook = this.deps.timers.setTimeout(() => {
          this.podLook = undefined;
          if (this.stopped) return;
          // A pass under way may have listed the pods before this change: one more after it.
          if (this.refreshing) this.lookAgain = true;
          else void this.refresh();
        }, POD_SETTLE_MS);
      });
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopRefreshing?.();
    this.stopWatchingPods?.();
    if (this.podLook) this.deps.timers.clearTimeout(this.podLook);
    for (const target of this.targets.values()) target.reader.stop();
    await this.refreshing?.catch(() => undefined);
  }

  async ready(timeoutMs: number): Promise<void> {
    if (this.firstRefresh) await settledWithin(this.deps.timers, this.firstRefresh, timeoutMs);
  }

  /** Discovery, identification of configured targets without a kind, and their facts. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshNow().finally(() => {
      this.refreshing = undefined;
      if (this.lookAgain && !this.stopped) {
        this.lookAgain = false;
        void this.refresh();
      }
    });
    return this.refreshing;
  }

  private async refreshNow(): Promise<void> {
    const { discovery } = this.options;
    if (discovery) await this.rediscover(discovery);
    if (this.stopped) return;
    await Promise.all([...this.targets.values()].map((t) => this.refreshTarget(t)));
    this.publish();
  }

  /**
   * In a cluster, the runtimes are this node's pods, read at the pod's address (loopback is the
   * agent's own pod there); elsewhere, whatever answers on the discovery host's ports.
   */
  private async rediscover(discovery: NonNullable<RuntimesOptions['discovery']>): Promise<void> {
    const pods = this.deps.nodePods;
    // The first look waits for the pods to be listed (`once`, doctor), a pass's time at most.
    if (pods.active) await settledWithin(this.deps.timers, pods.listed, discovery.timeoutMs);
    const found = pods.active
      ? await this.pods.discover([...pods.current.values()])
      : await this.discoverLocal(discovery);
    mergeFound(this.targets, found, {
      make: (d) => this.newTarget(d.name, d.url, undefined, d.adapter, d.place),
      logger: this.deps.logger,
    });
  }

  private discoverLocal(discovery: NonNullable<RuntimesOptions['discovery']>) {
    return discover(this.deps.http, {
      host: discovery.host,
      ports: discovery.ports.filter((p) => !configuredPorts(this.targets, discovery.host).has(p)),
      timeoutMs: discovery.timeoutMs,
      requestTimeoutMs: this.options.timeoutMs,
      maxBytes: this.options.maxBodyBytes,
    });
  }

  /** The runtimes the probe and the process attribution work with: only those it may talk to. */
  private publish(): void {
    this.deps.runtimeEndpoints.set(
      [...this.targets.values()].flatMap((t) => {
        const adapter = t.adapter;
        // No API key, no request: the probe must never call a runtime without its key.
        if (!adapter || t.credentialProblem) return [];
        return [endpointOf(t, adapter, this.probeUrlOf(t))];
      }),
    );
  }

  private async refreshTarget(target: RuntimeTarget): Promise<void> {
    if (!(await refreshCredentials(NAME, target, this.deps.stateLog))) return;
    const api = this.api(target, AbortSignal.timeout(IDENTIFY_BUDGET_MS));
    if (!target.adapter && target.config) {
      target.adapter = await identify(this.deps.http, target.url, {
        timeoutMs: this.options.timeoutMs,
        maxBytes: this.options.maxBodyBytes,
        headers: target.headers,
        signal: AbortSignal.timeout(IDENTIFY_BUDGET_MS),
      });
      if (!target.adapter) {
        target.problem = `nothing at ${target.url} answers like a known runtime`;
        return;
      }
      target.problem = undefined;
    }
    if (target.adapter) target.facts = await target.adapter.facts(api).catch(() => target.facts);
  }

  async collect(emitter: Emitter, handOver: AbortSignal): Promise<void> {
    const out = placedByTarget(emitter, (name) => this.targets.get(name)?.place);
    const targets = [...this.targets.values()];
    const ended = await Promise.all(
      targets.map((t) =>
        t.adapter && !t.credentialProblem ? t.reader.forScrape(handOver) : Promise.resolve(true),
      ),
    );
    const now = this.deps.clock.monotonicMs();
    let failure: { reason: string; message: string } | undefined;
    let stale: { atEpochMs: number; reason: string; message: string } | undefined;
    for (const [i, target] of targets.entries()) {
      const labels = { runtime: target.kind, target: target.name };
      // What the proxy measured is served whatever the runtime's state: a runtime that is down
      // is when its clients' errors matter most.
      const proxied = emitProxied(
        out,
        target,
        this.options.proxied.get(target.name),
        this.deps.traffic.of(target.name),
      );
      if (!target.adapter || target.credentialProblem) {
        out.emit(RUNTIME_UP, labels, 0);
        failure ??= target.credentialProblem
          ? { reason: 'credentials', message: `${target.name}: ${target.credentialProblem}` }
          : {
              reason: 'unidentified',
              message: `${target.name}: ${target.problem ?? 'not identified yet'}`,
            };
        continue;
      }
      const inTime = ended[i] as boolean;
      const standing = target.standing();
      const hung = (target.reader.runningForMs() ?? 0) > this.options.timeoutMs;
      if (standing === undefined) {
        // No read has ended yet: nothing is known of it.
        failure ??= { reason: 'slow', message: `${target.name}: its first read is still running` };
        if (hung) out.emit(RUNTIME_UNRESPONSIVE, labels, 1);
        continue;
      }
      const up = standing.kind === 'ok' || standing.kind === 'unresponsive';
      out.emit(RUNTIME_UP, labels, up ? 1 : 0);
      out.emit(RUNTIME_UNRESPONSIVE, labels, standing.kind === 'unresponsive' || hung ? 1 : 0);
      if (!up) {
        failure ??= { reason: standing.reason, message: `${target.name}: ${standing.message}` };
        continue;
      }
      const last = target.reader.last;
      if (!last || now - last.atMonotonicMs > this.options.maxStalenessMs) {
        if (standing.kind === 'unresponsive')
          failure ??= { reason: 'unresponsive', message: `${target.name}: ${standing.message}` };
        continue;
      }
      emitServed(out, target, last.value, proxied);
      out.emit(RUNTIME_LAST_READ, labels, last.atEpochMs / 1000);
      // A read past the runtime's own deadline is as good as unanswered, whoever waits for it.
      if (!inTime || hung || standing.kind !== 'ok') {
        const reason = standing.kind === 'unresponsive' || hung ? 'unresponsive' : 'slow';
        if (stale === undefined || last.atEpochMs < stale.atEpochMs)
          stale = {
            atEpochMs: last.atEpochMs,
            reason,
            message: `${target.name}: served from its last good read`,
          };
      }
    }
    if (failure) out.degrade(failure.reason, failure.message);
    if (stale) out.lastGood(stale.atEpochMs, stale.reason, stale.message);
  }

  /**
   * Through the target's proxy route while it listens; directly otherwise. Never through an
   * address the route failed to take: whatever holds it would get the runtime's API key.
   */
  private probeUrlOf(target: RuntimeTarget): string {
    return this.deps.traffic.listeningUrl(target.name) ?? target.url;
  }

  /** A read ended: counted and logged as it happens, not at the next scrape. */
  private settled(target: RuntimeTarget, standing: Standing): void {
    reportSettled(NAME, target, standing, {
      errors: this.deps.errors,
      stateLog: this.deps.stateLog,
      maxModels: this.options.maxModels,
    });
  }

  private newTarget(
    name: string,
    url: string,
    config: TargetConfig | undefined,
    adapter: RuntimeAdapter | undefined,
    place?: Place,
  ): RuntimeTarget {
    let ledger = this.ledgers.get(name);
    if (!ledger) this.ledgers.set(name, (ledger = { folder: new TargetFolder() }));
    return new RuntimeTarget(name, url, config, adapter, ledger, place, {
      clock: this.deps.clock,
      timers: this.deps.timers,
      readTimeoutMs: this.options.timeoutMs,
      maxModels: this.options.maxModels,
      api: (target, signal) => this.api(target, signal),
      settled: (target, standing) => this.settled(target, standing),
      missed: () => this.deps.errors.count(NAME, 'slow'),
    });
  }

  private api(target: RuntimeTarget, signal: AbortSignal) {
    return runtimeApi(this.deps.http, {
      baseUrl: target.url,
      headers: target.headers,
      timeoutMs: this.options.timeoutMs,
      maxBytes: this.options.maxBodyBytes,
      signal,
    });
  }

  status(): SourceStatus {
    const targets = [...this.targets.values()];
    const lines = targets.map((t) =>
      describeTarget(t, proxiedConcepts(t, this.options.proxied.get(t.name))),
    );
    if (targets.length === 0)
      return {
        state: 'missing',
        detail: this.options.discovery
          ? `no runtime found on ${this.options.discovery.host} ports ${this.options.discovery.ports.join(', ')}`
          : 'no runtime configured and discovery is off',
        lines,
        todo: NO_RUNTIME_TODO,
      };
    const failing = targets.filter(
      (t) => t.credentialProblem !== undefined || t.problem !== undefined,
    );
    const todo = targetsTodo(failing);
    return {
      ...(todo ? { todo } : {}),
      state: failing.length ? 'failing' : targets.some((t) => !t.reader.last) ? 'starting' : 'ok',
      detail: `${targets.length} runtime${targets.length === 1 ? '' : 's'}${failing.length ? `, ${failing.length} failing` : ''}`,
      lines,
    };
  }
}
