import { GpuFacts } from './shared/gpu-facts.js';
import { NodePods } from './shared/node-pods.js';
import { RuntimeEndpoints } from './shared/runtime-endpoints.js';
import { COLLECTORS } from './collectors/index.js';
import { RuntimesCollector } from './collectors/runtimes/collector.js';
import { adapterFor } from './collectors/runtimes/adapters/index.js';
import type { AgentConfig } from './config/load.js';
import type { Clock, Timers } from './core/clock.js';
import type { Collector, SourceStatus, Stage } from './core/collector.js';
import { Durable } from './core/durable.js';
import type { SelfCommand } from './core/self-command.js';
import type { ProcessRunner } from './core/exec.js';
import type { HttpClient } from './core/http.js';
import { Exposition } from './core/exposition.js';
import type { MetricDef } from './core/metric.js';
import type { Logger } from './core/logger.js';
import { Scraper } from './core/scrape.js';
import { defineSelfMetrics, type SourceErrors } from './core/self-metrics.js';
import { StateLog } from './core/state-log.js';
import { renderBlackbox } from './probe/blackbox.js';
import { ProbeStore } from './probe/store.js';
import { MeteredTraffic } from './proxy/ledger.js';
import { PROBE_MODULES, type ProbeModule } from './probe/types.js';
import { VERSION } from './core/version.js';

export interface World {
  readonly runner: ProcessRunner;
  /** How the agent runs itself as a child; absent where it cannot (tests). */
  readonly self?: SelfCommand;
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
}

/**
 * What outlives a configuration reload: the exposition with its counters, the ledgers counters
 * are made of (the GPUs seen among them), the probe's results. An agent built anew on reload takes it
 * over, so no counter falls and no series blinks.
 */
export interface AgentState {
  readonly exposition: Exposition;
  readonly errors: SourceErrors;
  readonly probeStore: ProbeStore;
  readonly traffic: MeteredTraffic;
  readonly durable: Durable;
}

export function newAgentState(config: AgentConfig): AgentState {
  const exposition = new Exposition({ processMetrics: config.web.process_metrics });
  return {
    exposition,
    errors: defineSelfMetrics(exposition, VERSION),
    probeStore: new ProbeStore(),
    traffic: new MeteredTraffic(),
    durable: new Durable(),
  };
}

/** The collectors, the stages, the exposition and the scrape loop, wired from one frozen config. */
export class Agent {
  readonly exposition: Exposition;
  readonly collectors: readonly Collector[];
  /** What runs after the collectors, on what they reported (the GPU view, the cost). */
  readonly stages: readonly Stage[];
  /** The probe's last results, for /probe. */
  readonly probeStore: ProbeStore;
  /** The runtimes found and configured, as the runtimes collector last published them. */
  readonly runtimeEndpoints = new RuntimeEndpoints();
  /** The pods on this node, as the Kubernetes watch last saw them (none outside a cluster). */
  readonly nodePods = new NodePods();
  private readonly scraper: Scraper;

  constructor(
    readonly config: AgentConfig,
    world: World,
    readonly state: AgentState = newAgentState(config),
  ) {
    this.exposition = state.exposition;
    this.probeStore = state.probeStore;
    const errors = state.errors;
    const stateLog = new StateLog(world.logger);
    const deps = {
      ...world,
      errors,
      stateLog,
      gpuFacts: new GpuFacts(),
      runtimeEndpoints: this.runtimeEndpoints,
      nodePods: this.nodePods,
      generationOf: (kind: string) => adapterFor(kind).generation,
      probeStore: this.probeStore,
      traffic: state.traffic,
      durable: state.durable,
    };
    const built = COLLECTORS.flatMap((factory) =>
      factory.create(config, { ...deps, logger: world.logger.child({ collector: factory.name }) }),
    );
    this.collectors = built.filter((b): b is Collector => !isStage(b));
    this.stages = built.filter(isStage);
    this.scraper = new Scraper(
      this.collectors,
      this.exposition,
      {
        clock: world.clock,
        timers: world.timers,
        stateLog,
        errors,
        waitMs: config.collectors.timeout_ms,
        maxSeriesPerFamily: config.collectors.max_series_per_family,
      },
      this.stages,
    );
  }

  /** Looks for runtimes now (for `inferwatch probe`, which starts no collector). */
  async refreshRuntimes(): Promise<void> {
    await Promise.all(
      this.collectors.map((c) => (c instanceof RuntimesCollector ? c.refresh() : undefined)),
    );
  }

  async start(): Promise<void> {
    await Promise.all(this.collectors.map((c) => c.start?.()));
  }

  /** Waits until every background source has data or is known to fail, at most `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    await Promise.all(this.collectors.map((c) => c.ready?.(timeoutMs)));
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.collectors.map((c) => c.stop?.()));
  }

  /** Families this agent's collectors write, for a reload to retire those no longer written. */
  families(): Set<MetricDef> {
    return new Set([...this.collectors, ...this.stages].flatMap((c) => c.metrics));
  }

  /**
   * One scrape and its exposition text. (The HTTP server shares one among concurrent requests,
   * so an HA pair of Prometheus servers does not double the work.)
   */
  async metrics(): Promise<Buffer> {
    await this.scraper.scrape();
    return this.exposition.bytes();
  }

  /**
   * /probe: the last result for a target (its name or URL) and module. Unknown names are not
   * echoed back: the answer never reflects request input.
   */
  probeAnswer(target: string, module: string): { status: number; body: string } {
    if (!this.config.probe.enabled) return { status: 404, body: 'the probe is switched off\n' };
    if (!(PROBE_MODULES as readonly string[]).includes(module))
      return { status: 400, body: `unknown module; use one of ${PROBE_MODULES.join(', ')}\n` };
    const name = this.probeStore.targetNamed(target);
    if (name === undefined)
      return { status: 404, body: 'no probed runtime has that name or URL\n' };
    return {
      status: 200,
      body: renderBlackbox(this.probeStore.lastResult(name, module as ProbeModule)),
    };
  }

  statuses(): { name: string; status: SourceStatus; lastGoodEpochS?: number }[] {
    return [...this.collectors, ...this.stages].map((c) => {
      const status = c.status();
      const lastGood = this.scraper.lastGood(c.name);
      const when = lastGood === undefined ? {} : { lastGoodEpochS: lastGood };
      const dropped = this.scraper.droppedBy(c.name);
      if (dropped.length === 0) return { name: c.name, status, ...when };
      const cap = this.config.collectors.max_series_per_family;
      const said = dropped.map((d) => `${d.series} series of ${d.family}`).join(', ');
      return {
        name: c.name,
        ...when,
        status: {
          ...status,
          detail: `${status.detail}; left out over collectors.max_series_per_family (${cap}): ${said}`,
        },
      };
    });
  }
}

function isStage(built: Collector | Stage): built is Stage {
  return 'merge' in built;
}
