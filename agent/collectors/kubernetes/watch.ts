import type { Timers } from '../../core/clock.js';
import { HttpError } from '../../core/http.js';
import type { KubeApi } from './api.js';
import { podOf, type PodView } from '../../shared/pod.js';

export interface PodWatchOptions {
  readonly nodeName: string;
  /** Pods kept at most; more on one node are left out and counted. */
  readonly maxPods: number;
  /** The server ends each watch after this long; a new one starts from where it left off. */
  readonly watchSeconds: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

/** What the watch has done, for its metrics and for doctor. */
export interface WatchState {
  synced: boolean;
  lists: number;
  events: number;
  failures: number;
  /** Pods left out by the cap at the last change. */
  dropped: number;
  /** Objects the watch could not read as pods. */
  malformed: number;
  lastError: { reason: string; message: string } | undefined;
}

/**
 * The pods on one node, listed once and then watched (a `spec.nodeName` field selector, so
 * the API server sends only this node's). A watch that ends is resumed from its last
 * resourceVersion; one the server calls too old (410) is listed anew; a failure backs off.
 */
export class PodWatch {
  readonly state: WatchState = {
    synced: false,
    lists: 0,
    events: 0,
    failures: 0,
    dropped: 0,
    malformed: 0,
    lastError: undefined,
  };
  private readonly pods = new Map<string, PodView>();
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly options: PodWatchOptions,
    private readonly timers: Timers,
    private readonly nowMs: () => number,
    private readonly changed: (pods: ReadonlyMap<string, PodView>) => void,
    private readonly failed: (reason: string, message: string) => void,
    private readonly recovered: () => void,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private get selector(): string {
    return `fieldSelector=${encodeURIComponent(`spec.nodeName=${this.options.nodeName}`)}`;
  }

  private async loop(): Promise<void> {
    let delay = this.options.backoff.initialMs;
    let version: string | undefined;
    while (!this.abort.signal.aborted) {
      try {
        version ??= await this.list();
        const startedMs = this.nowMs();
        version = await this.watchFrom(version);
        // A watch the server ends at once, again and again, must not become a busy loop.
        if (this.nowMs() - startedMs >= MIN_WATCH_MS) {
          delay = this.options.backoff.initialMs;
          continue;
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        const failure =
          error instanceof HttpError
            ? { reason: error.reason, message: error.message }
            : { reason: 'error', message: 'the watch failed' };
        if (error instanceof Gone) version = undefined;
        else {
          this.state.failures++;
          this.state.lastError = failure;
          this.failed(failure.reason, failure.message);
        }
      }
      if (version === undefined && this.state.lastError === undefined && this.state.lists > 0)
        continue;
      await this.sleep(delay);
      delay = Math.min(delay * 2, this.options.backoff.maxMs);
    }
  }

  private async list(): Promise<string> {
    const answer = (await this.api.list(`/api/v1/pods?${this.selector}`, this.abort.signal)) as {
      metadata?: { resourceVersion?: unknown };
      items?: unknown;
    };
    if (!Array.isArray(answer.items) || typeof answer.metadata?.resourceVersion !== 'string')
      throw new HttpError('protocol', 'the pod list is not a PodList');
    this.pods.clear();
    for (const item of answer.items) this.put(item);
    this.state.lists++;
    this.state.synced = true;
    this.state.lastError = undefined;
    this.recovered();
    this.publish();
    return answer.metadata.resourceVersion;
  }

  /** Follows the watch until the server ends it; the resourceVersion to resume from. */
  private async watchFrom(version: string): Promise<string> {
    let last = version;
    let gone = false;
    const path =
      `/api/v1/pods?${this.selector}&watch=1&allowWatchBookmarks=true` +
      `&resourceVersion=${encodeURIComponent(version)}&timeoutSeconds=${this.options.watchSeconds}`;
    // Bookmarks come about every minute; twice the watch's length of silence means it hung.
    await this.api.watch(
      path,
      this.abort.signal,
      (this.options.watchSeconds + 60) * 1000,
      (raw) => {
        const event = raw as {
          type?: unknown;
          object?: { code?: unknown; metadata?: { resourceVersion?: unknown } };
        };
        const rv = event.object?.metadata?.resourceVersion;
        switch (event.type) {
          case 'ADDED':
          case 'MODIFIED':
            this.put(event.object);
            break;
          case 'DELETED':
            this.remove(event.object);
            break;
          case 'BOOKMARK':
            break;
          case 'ERROR':
            gone = event.object?.code === 410;
            if (!gone) this.state.malformed++;
            return;
          default:
            this.state.malformed++;
            return;
        }
        if (typeof rv === 'string') last = rv;
        this.state.events++;
        if (event.type !== 'BOOKMARK') this.publish();
      },
    );
    if (gone) throw new Gone();
    if (this.state.lastError) {
      this.state.lastError = undefined;
      this.recovered();
    }
    return last;
  }

  private put(object: unknown): void {
    const read = podOf(object);
    if ('error' in read) {
      this.state.malformed++;
      return;
    }
    this.pods.set(read.pod.uid, read.pod);
  }

  private remove(object: unknown): void {
    const uid = (object as { metadata?: { uid?: unknown } } | undefined)?.metadata?.uid;
    if (typeof uid === 'string') this.pods.delete(uid);
  }

  /** The pods, the cap applied in a stable order (by namespace and name). */
  private publish(): void {
    const all = [...this.pods.values()].sort(
      (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
    );
    const kept = all.slice(0, this.options.maxPods);
    this.state.dropped = all.length - kept.length;
    this.changed(new Map(kept.map((p) => [p.uid, p])));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.timers.setTimeout(done, ms);
      const signal = this.abort.signal;
      function done() {
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener(
        'abort',
        () => {
          this.timers.clearTimeout(handle);
          done();
        },
        { once: true },
      );
    });
  }
}

/** A watch that lasted less than this is resumed after the backoff, not at once. */
const MIN_WATCH_MS = 1000;

/** The server no longer has the history to resume from: list again. */
class Gone extends Error {}
