import { GpuInventory } from './collectors/gpu-inventory.js';
import { GpuSources } from './collectors/gpu-sources.js';
import { RuntimeEndpoints } from './collectors/runtime-endpoints.js';
import { COLLECTORS } from './collectors/index.js';
import { RuntimesCollector } from './collectors/runtimes/collector.js';
import type { AgentConfig } from './config/load.js';
import type { Clock } from './core/clock.js';
import type { Collector, SourceStatus } from './core/collector.js';
import type { ProcessRunner } from './core/exec.js';
import type { HttpClient } from './core/http.js';
import { Exposition } from './core/exposition.js';
import type { Logger } from './core/logger.js';
import { Scraper } from './core/scrape.js';
import { defineSelfMetrics } from './core/self-metrics.js';
import { StateLog } from './core/state-log.js';
import { renderBlackbox } from './probe/blackbox.js';
import { ProbeStore } from './probe/store.js';
import { PROBE_MODULES, type ProbeModule } from './probe/types.js';
import { VERSION } from './version.js';

export interface World {
  readonly runner: ProcessRunner;
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The collectors, the exposition and the scrape loop, wired from one frozen config. */
export class Agent {
  readonly exposition: Exposition;
  readonly collectors: readonly Collector[];
  /** The probe's last results, for /probe. */
  readonly probeStore = new ProbeStore();
  /** The runtimes found and configured, as the runtimes collector last published them. */
  readonly runtimeEndpoints = new RuntimeEndpoints();
  private readonly scraper: Scraper;
  private pending: Promise<string> | undefined;

  constructor(
    readonly config: AgentConfig,
    world: World,
  ) {
    this.exposition = new Exposition({ processMetrics: config.web.process_metrics });
    const errors = defineSelfMetrics(this.exposition, VERSION);
    const stateLog = new StateLog(world.logger);
    const deps = {
      ...world,
      errors,
      stateLog,
      inventory: new GpuInventory(),
      sources: new GpuSources(),
      runtimeEndpoints: this.runtimeEndpoints,
      probeStore: this.probeStore,
    };
    this.collectors = COLLECTORS.flatMap((factory) =>
      factory.create(config, { ...deps, logger: world.logger.child({ collector: factory.name }) }),
    );
    this.scraper = new Scraper(this.collectors, this.exposition, {
      clock: world.clock,
      stateLog,
      errors,
      timeoutMs: config.collectors.timeout_ms,
    });
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

  /**
   * One scrape and its exposition text. Concurrent requests share the scrape in flight, so
   * an HA pair of Prometheus servers does not double the work.
   */
  metrics(): Promise<string> {
    this.pending ??= this.scraper
      .scrape()
      .then(() => this.exposition.render())
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
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

  statuses(): { name: string; status: SourceStatus }[] {
    return this.collectors.map((c) => ({ name: c.name, status: c.status() }));
  }
}
