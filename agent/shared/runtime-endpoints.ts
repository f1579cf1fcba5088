import type { Place } from './pod.js';
import type { GenerationSurface } from './generation-api.js';

/** How busy a runtime is now, as far as its metrics say; a figure it does not report is absent. */
export interface RuntimeLoad {
  /** Requests queued, over every model and engine. */
  readonly waiting?: number;
  readonly running?: number;
  /** The fullest KV cache of any model or engine, 0..1; only where it means live load. */
  readonly kvCacheUsage?: number;
  /** Requests it runs at once at most (slots); a probe beyond it would queue. */
  readonly maxConcurrency?: number;
}

/** Which prompt tokens a runtime's own counter counts (see RuntimeEndpoint). */
export type PromptTokensCounted = 'all' | 'evaluated';

/** A runtime the agent reads, by the name its series carry. */
export interface RuntimeAddress {
  readonly runtime: string;
  readonly target: string;
  readonly url: string;
  /** The pod it runs in, in a cluster. */
  readonly place?: Place;
}

/** A runtime, and what it takes to talk to it. */
export interface RuntimeEndpoint extends RuntimeAddress {
  /** Where the probe sends its requests: the metering proxy's route where one serves it. */
  readonly probeUrl: string;
  /** The headers (API key included) the runtime wants. Never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Which prompt tokens its own counter counts: all of them, or only those it evaluated
   * (llama.cpp leaves out its prompt cache's). The probe counts its traffic the same way, so
   * subtracting it from served traffic is exact.
   */
  readonly promptTokensCounted: PromptTokensCounted;
  /** How it serves generations (its adapter's declaration): what the probe asks it in. */
  readonly generation: GenerationSurface;
  /** The runtime's version as last read (its facts are read again every refresh). */
  runtimeVersion(): string | undefined;
  /** A fresh, bounded read of its queue and KV figures; rejects when the runtime does not answer. */
  readLoad(signal: AbortSignal): Promise<RuntimeLoad>;
}

type Listener = (list: readonly RuntimeEndpoint[]) => void;

/**
 * The runtimes the agent reads (configured and discovered), published by the runtimes
 * collector after each refresh, so the per-process GPU memory can say which runtime holds it
 * and the probe knows what to probe.
 */
export class RuntimeEndpoints {
  private list: readonly RuntimeEndpoint[] = [];
  private places: ReadonlyMap<string, Place> = new Map();
  private readonly listeners: Listener[] = [];

  set(list: readonly RuntimeEndpoint[]): void {
    this.list = list;
    this.places = new Map(list.flatMap((e) => (e.place ? [[e.target, e.place] as const] : [])));
    for (const listener of this.listeners) listener(list);
  }

  get current(): readonly RuntimeEndpoint[] {
    return this.list;
  }

  /** The pod a target runs in, in a cluster: what its probe and traffic series are labelled with. */
  placeOf(target: string): Place | undefined {
    return this.places.get(target);
  }

  /** Calls `listener` on every publication from now on. */
  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }
}
