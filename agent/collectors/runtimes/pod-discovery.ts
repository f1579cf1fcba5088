import type { HttpClient } from '../../core/http.js';
import { candidatesOf, type Candidate, type PodView } from '../../shared/pod.js';
import type { RuntimeAdapter } from './adapter.js';
import { ADAPTERS } from './adapters/index.js';
import { identify, type Discovered } from './discovery.js';

/** Addresses tried in one pass at most: a node's pods, a few ports each. */
const MAX_CANDIDATES = 512;
/** Identifications in flight at once, so a node of many pods is looked at in waves. */
const CONCURRENCY = 8;

interface Tried {
  readonly adapter: RuntimeAdapter | undefined;
  readonly atMs: number;
  readonly ready: boolean;
}

/**
 * Runtimes among this node's pods: each declared port (and annotated one) identified by what
 * it answers, as on loopback, at the pod's address. What a port turned out to be is kept while
 * its pod keeps its identity and address; a port that answered like no runtime is asked again
 * when its pod's readiness changes or `retryMs` later (a model still loading).
 */
export class PodDiscovery {
  private readonly tried = new Map<string, Tried>();

  constructor(
    private readonly http: HttpClient,
    private readonly options: {
      readonly timeoutMs: number;
      readonly requestTimeoutMs: number;
      readonly maxBytes: number;
      readonly retryMs: number;
      readonly now: () => number;
    },
  ) {}

  async discover(pods: Iterable<PodView>): Promise<Discovered[]> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const now = this.options.now();
    const live = new Map<string, { candidate: Candidate; ready: boolean }>();
    for (const pod of pods)
      for (const candidate of candidatesOf(pod))
        if (live.size < MAX_CANDIDATES)
          live.set(`${candidate.podKey}:${candidate.port}`, { candidate, ready: pod.ready });
    for (const key of this.tried.keys()) if (!live.has(key)) this.tried.delete(key);
    const work = [...live]
      .filter(([key, { ready }]) => {
        const known = this.tried.get(key);
        return !(
          known?.adapter ||
          (known?.ready === ready && now - known.atMs < this.options.retryMs)
        );
      })
      .map(([key, { candidate, ready }]) => ({ candidate, key, ready }));
    let next = 0;
    const worker = async () => {
      while (next < work.length && !signal.aborted) {
        const { candidate, key, ready } = work[next++] as (typeof work)[number];
        const adapter = await this.identify(candidate, signal);
        if (!signal.aborted) this.tried.set(key, { adapter, atMs: now, ready });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return [...live].flatMap(([key, { candidate }]) => {
      const adapter = this.tried.get(key)?.adapter;
      return adapter
        ? [
            {
              adapter,
              url: candidate.url,
              name: `${candidate.place.namespace}/${candidate.place.pod}:${candidate.port}`,
              place: candidate.place,
            },
          ]
        : [];
    });
  }

  private async identify(
    candidate: Candidate,
    signal: AbortSignal,
  ): Promise<RuntimeAdapter | undefined> {
    // The pod's owner said what it is: trusted, only its kind checked.
    const declared = ADAPTERS.find((a) => a.kind === candidate.kind);
    if (declared) return declared;
    return identify(this.http, candidate.url, {
      timeoutMs: Math.min(this.options.requestTimeoutMs, this.options.timeoutMs),
      maxBytes: this.options.maxBytes,
      signal,
    }).catch(() => undefined);
  }
}
