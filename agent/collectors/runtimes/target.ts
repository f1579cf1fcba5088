import { BackgroundRead } from '../../core/background-read.js';
import type { Clock, Timers } from '../../core/clock.js';
import type { Place } from '../../shared/pod.js';
import { CollectorError, failureOf } from '../../core/collector.js';
import { HttpError, isUnresponsive } from '../../core/http.js';
import type { MetricDef, Sample } from '../../core/metric.js';
import type { Facts, RuntimeAdapter, RuntimeApi } from './adapter.js';
import type { RuntimeKind } from './adapters/index.js';
import { TargetFolder } from './fold.js';
import { ModelCap } from './model-cap.js';
import type { Reading } from './reading.js';

export interface TargetConfig {
  readonly kind?: RuntimeKind | undefined;
  readonly url: string;
  readonly name?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly apiKeyFile?: string | undefined;
  readonly apiKeyEnv?: string | undefined;
}

/** One read of a runtime, normalized and folded into series. */
export interface Served {
  readonly reading: Reading;
  readonly samples: ReadonlyMap<MetricDef, readonly Sample[]>;
  /** Models left out by the cap. */
  readonly dropped: number;
}

/**
 * How the runtime stands after its last read. `unreachable`: nothing took the connection (it
 * is down); `unresponsive`: it took it and did not answer in time (busy, not down); `error`:
 * it answered, wrongly (an HTTP error, text that is not its format).
 */
export type Standing =
  | { readonly kind: 'ok' }
  | {
      readonly kind: 'unreachable' | 'unresponsive' | 'error';
      readonly reason: string;
      readonly message: string;
    };

/** The durable part of a target: its counters carry on through a config reload. */
export interface TargetLedger {
  readonly folder: TargetFolder;
}

/** A runtime the agent reads: configured or found, its adapter, facts and last reads. */
export class RuntimeTarget {
  adapter: RuntimeAdapter | undefined;
  headers: Readonly<Record<string, string>>;
  facts: Facts = {};
  /** Why its API key cannot be used; no request is sent to it meanwhile. */
  credentialProblem: string | undefined;
  /** Why it could not be identified or read, for doctor. */
  problem: string | undefined;
  /** What a person can do about that problem. */
  todo: string | undefined;
  readonly reader: BackgroundRead<Served>;
  private readonly cap: ModelCap;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly config: TargetConfig | undefined,
    adapter: RuntimeAdapter | undefined,
    private readonly ledger: TargetLedger,
    /** The pod it runs in, when found among this node's pods: its series name it. */
    readonly place: Place | undefined,
    options: {
      readonly clock: Clock;
      readonly timers: Timers;
      readonly readTimeoutMs: number;
      readonly maxModels: number;
      readonly api: (target: RuntimeTarget, signal: AbortSignal) => RuntimeApi;
      readonly settled: (target: RuntimeTarget, outcome: Standing) => void;
      /** A scrape went without its read in progress (once per read). */
      readonly missed: () => void;
    },
  ) {
    this.adapter = adapter;
    this.headers = config?.headers ?? {};
    // No request goes out before its API key is read.
    if (config?.apiKeyFile !== undefined || config?.apiKeyEnv !== undefined)
      this.credentialProblem = 'its API key is not read yet';
    this.cap = new ModelCap(options.maxModels);
    this.reader = new BackgroundRead((signal) => this.read(options.api(this, signal), signal), {
      clock: options.clock,
      timers: options.timers,
      // Each request has its own deadline; this one only ends a read that outlives them all.
      timeoutMs: options.readTimeoutMs * 2,
      settled: (outcome) =>
        options.settled(this, outcome.ok ? { kind: 'ok' } : standingOf(outcome.error)),
      missed: options.missed,
    });
  }

  get kind(): string {
    return this.adapter?.kind ?? this.config?.kind ?? 'unknown';
  }

  /** How it stands after the last read that ended; undefined before any did. */
  standing(): Standing | undefined {
    const failure = this.reader.failure;
    if (failure) return standingOf(failure.error);
    return this.reader.last ? { kind: 'ok' } : undefined;
  }

  private async read(api: RuntimeApi, signal: AbortSignal): Promise<Served> {
    const adapter = this.adapter;
    if (!adapter) throw new CollectorError('unidentified', this.problem ?? 'not identified yet');
    if (this.credentialProblem) throw new CollectorError('credentials', this.credentialProblem);
    if (signal.aborted) throw new HttpError('aborted', 'cancelled');
    const reading = await adapter.read(api, this.facts, this.name);
    const { reading: capped, dropped } = this.cap.apply(reading);
    return { reading: capped, samples: this.ledger.folder.fold(capped.samples), dropped };
  }
}

/** A failed read, sorted: down, busy, or answering wrongly. */
export function standingOf(error: unknown): Standing {
  const { reason, message } = failureOf(error);
  if (error instanceof HttpError) {
    if (error.reason === 'unreachable' || error.reason === 'tls')
      return { kind: 'unreachable', reason: 'unreachable', message };
    // The read's own deadline ends a read that a runtime holds open: it took the connection.
    if (isUnresponsive(error)) return { kind: 'unresponsive', reason: 'unresponsive', message };
  }
  return { kind: 'error', reason, message };
}
