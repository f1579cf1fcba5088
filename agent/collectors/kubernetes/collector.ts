import { settledWithin } from '../../core/clock.js';
import type { Collector, Emitter, SourceStatus } from '../../core/collector.js';
import type { MetricDef } from '../../core/metric.js';
import type { StateLog } from '../../core/state-log.js';
import type { CollectorDeps } from '../../shared/collector-factory.js';
import { KubeApi, type KubeApiOptions } from './api.js';
import { KUBERNETES_METRICS, PODS, PODS_DROPPED, WATCH_FAILURES, WATCH_SYNCED } from './metrics.js';
import { PodWatch, type PodWatchOptions } from './watch.js';

const NAME = 'kubernetes';

/** What a person can do when the pods cannot be watched. */
export const WATCH_TODO =
  "check the agent's ClusterRole allows get, list and watch on pods, that NODE_NAME is set from spec.nodeName, and that the API server is reachable from the pod; runtimes are looked for on loopback meanwhile";

/**
 * This node's pods, listed and watched in the background; the runtimes, dcgm-exporter and
 * GPU-process sources read them from the shared view. A scrape only writes what the watch
 * knows: it never waits on the API server.
 */
export class KubernetesCollector implements Collector {
  readonly name = NAME;
  readonly metrics: readonly MetricDef[] = KUBERNETES_METRICS;
  private readonly watch: PodWatch;

  constructor(
    private readonly options: { readonly api: KubeApiOptions; readonly watch: PodWatchOptions },
    private readonly deps: CollectorDeps,
  ) {
    deps.nodePods.active = true;
    this.watch = new PodWatch(
      new KubeApi(options.api),
      options.watch,
      deps.timers,
      () => deps.clock.monotonicMs(),
      (pods) => deps.nodePods.set(pods),
      (reason, message) => {
        deps.errors.count(NAME, reason);
        deps.stateLog.failing(`${NAME}/pods`, reason, `watching pods: ${message}`, WATCH_TODO);
      },
      () => deps.stateLog.ok(`${NAME}/pods`),
    );
  }

  start(): Promise<void> {
    this.watch.start();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return this.watch.stop();
  }

  ready(timeoutMs: number): Promise<void> {
    return settledWithin(this.deps.timers, this.deps.nodePods.listed, timeoutMs);
  }

  collect(out: Emitter): void {
    const { state } = this.watch;
    out.emit(WATCH_SYNCED, {}, state.synced && !state.lastError ? 1 : 0);
    out.emit(WATCH_FAILURES, {}, state.failures);
    out.emit(PODS_DROPPED, {}, state.dropped);
    const phases = new Map<string, number>();
    for (const pod of this.deps.nodePods.current.values())
      phases.set(pod.phase, (phases.get(pod.phase) ?? 0) + 1);
    for (const [phase, count] of phases) out.emit(PODS, { phase }, count);
    if (state.lastError) out.degrade(state.lastError.reason, state.lastError.message);
  }

  status(): SourceStatus {
    const { state } = this.watch;
    const where = `node ${this.options.watch.nodeName}`;
    if (state.lastError)
      return {
        state: 'failing',
        detail: `${where}: ${state.lastError.message}`,
        todo: WATCH_TODO,
      };
    if (!state.synced) return { state: 'starting', detail: `${where}: listing pods` };
    const pods = this.deps.nodePods.current.size;
    return {
      state: 'ok',
      detail: `${where}: ${pods} pod${pods === 1 ? '' : 's'} watched${state.dropped ? `, ${state.dropped} left out (max_pods)` : ''}`,
    };
  }
}

const NODE_TODO =
  'set NODE_NAME from spec.nodeName in the pod (the downward API, as the chart does), or collectors.kubernetes.node_name';

/**
 * In a pod that does not say which node it is on: nothing is watched, and that is a failure
 * doctor, / and the metrics show, not a line in the log alone.
 */
export class NodeUnknown implements Collector {
  readonly name = NAME;
  readonly metrics: readonly MetricDef[] = [WATCH_SYNCED];
  private static readonly MESSAGE =
    'running in a pod, but the node is unknown: its pods are not watched, and runtimes are looked for on loopback';

  constructor(private readonly stateLog: StateLog) {}

  start(): Promise<void> {
    this.stateLog.failing(`${NAME}/pods`, 'no_node', NodeUnknown.MESSAGE, NODE_TODO);
    return Promise.resolve();
  }

  collect(out: Emitter): void {
    out.emit(WATCH_SYNCED, {}, 0);
    out.degrade('no_node', NodeUnknown.MESSAGE);
  }

  status(): SourceStatus {
    return { state: 'failing', detail: NodeUnknown.MESSAGE, todo: NODE_TODO };
  }
}
