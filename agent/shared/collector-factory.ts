import type { SelfCommand } from '../core/self-command.js';
import type { AgentConfig } from '../config/load.js';
import type { Clock, Timers } from '../core/clock.js';
import type { Collector, Stage } from '../core/collector.js';
import type { Durable } from '../core/durable.js';
import type { ProcessRunner } from '../core/exec.js';
import type { HttpClient } from '../core/http.js';
import type { Logger } from '../core/logger.js';
import type { MetricDef } from '../core/metric.js';
import type { SourceErrors } from '../core/self-metrics.js';
import type { StateLog } from '../core/state-log.js';
import type { GenerationSurface } from './generation-api.js';
import type { GpuFacts } from './gpu-facts.js';
import type { ProbeStore } from '../probe/store.js';
import type { MeteredTraffic } from '../proxy/ledger.js';
import type { NodePods } from './node-pods.js';
import type { RuntimeEndpoints } from './runtime-endpoints.js';

export interface CollectorDeps {
  readonly runner: ProcessRunner;
  /** How the agent runs itself as a child (absent in tests): the host inventory uses it. */
  readonly self?: SelfCommand;
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly errors: SourceErrors;
  /** Shared with the scrape loop, so a failure is logged once whoever sees it first. */
  readonly stateLog: StateLog;
  /**
   * How a runtime kind serves generations, as its adapter declares it: for sources that talk to
   * a runtime named in their config (the metering proxy's routes).
   */
  readonly generationOf: (kind: string) => GenerationSurface;
  /** What the GPU view last saw: driver versions, each GPU's names and its MIG devices. */
  readonly gpuFacts: GpuFacts;
  /** The runtimes being read, for attributing GPU processes to them. */
  readonly runtimeEndpoints: RuntimeEndpoints;
  /** The pods on this node, for the sources that read them by pod address. */
  readonly nodePods: NodePods;
  /** The probe's last results, served by /metrics and /probe. */
  readonly probeStore: ProbeStore;
  /** What the metering proxy measured per target, served by the runtimes collector. */
  readonly traffic: MeteredTraffic;
  /** Ledgers that outlive a configuration reload, so no counter falls. */
  readonly durable: Durable;
}

/** One source folder's entry in the collector list. */
export interface CollectorFactory {
  readonly name: string;
  /** Every family its collectors and stages write, for the metric reference. */
  readonly metrics: readonly MetricDef[];
  /** The per-GPU families it reads and reports to the GPU view, which writes them. */
  readonly feeds?: readonly MetricDef[];
  /** Its collectors and stages for this config; none when the source is switched off. */
  create(config: AgentConfig, deps: CollectorDeps): (Collector | Stage)[];
}
