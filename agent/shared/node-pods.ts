import type { PodView } from './pod.js';

type Listener = () => void;

/**
 * The pods on this node as the Kubernetes watch last saw them, for the sources that read pods
 * (runtimes by pod address, dcgm-exporter's pod, the pod holding a GPU or a process). Empty,
 * and `active` false, outside a cluster.
 */
export class NodePods {
  private byUid: ReadonlyMap<string, PodView> = new Map();
  private readonly listeners: Listener[] = [];
  private markListed!: () => void;
  /** Resolves once the first list is in: a source looking at pods at start waits for it. */
  readonly listed = new Promise<void>((resolve) => (this.markListed = resolve));
  /** True once a watch runs: consumers look in the cluster instead of on loopback. */
  active = false;

  set(pods: ReadonlyMap<string, PodView>): void {
    this.byUid = pods;
    this.markListed();
    for (const listener of this.listeners) listener();
  }

  get current(): ReadonlyMap<string, PodView> {
    return this.byUid;
  }

  /** Called after every change; returns the way to stop listening. */
  onChange(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }
}
