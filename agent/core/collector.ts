import { HttpError } from './http.js';
import type { HistogramValue, Labels, MetricDef } from './metric.js';

/** Where a collector writes one scrape's samples. Nothing it writes is served unless the run completes in time. */
export interface Emitter {
  emit(def: MetricDef, labels: Labels, value: number): void;
  emitHistogram(def: MetricDef, labels: Labels, value: HistogramValue): void;
  /**
   * Marks the run as degraded: the samples written are served, but the collector reports
   * `inferwatch_collector_success 0` (a lost GPU among healthy ones, say).
   */
  degrade(reason: string, message: string): void;
  /**
   * Marks the samples written as the source's last good values, read at `readAtEpochMs`
   * because no fresh read came in time: served, with `inferwatch_collector_success 0` and
   * `inferwatch_collector_last_success_timestamp_seconds` at the time they were read.
   */
  lastGood(readAtEpochMs: number, reason: string, message: string): void;
  /**
   * Hands what the source saw to the stages reading `to` (a GPU reader's sighting of a GPU,
   * say). Reports travel only with samples that are served: a collector that fails or is cut
   * off reports nothing in that scrape.
   */
  report<T>(to: Channel<T>, value: T): void;
}

/** A typed way from collectors to the stages that merge what they saw. */
export interface Channel<T> {
  readonly name: string;
  /** Never set: it only carries the type of what travels on it. */
  readonly carries?: T;
}

export function channel<T>(name: string): Channel<T> {
  return { name };
}

/**
 * A stage after the collectors (dcgm-exporter's transform): it takes what the collectors, and
 * stages before it, reported on its input in this scrape, and writes the families it alone
 * owns. It does no I/O and runs at once, so it cannot hold a scrape.
 */
export interface Stage<T = unknown> {
  readonly name: string;
  readonly metrics: readonly MetricDef[];
  readonly input: Channel<T>;
  /** The channels it reports on: a stage runs after every stage that feeds it. */
  readonly output?: readonly Channel<unknown>[];
  merge(reports: readonly T[], out: Emitter): void;
  status(): SourceStatus;
}

/** What `doctor` and the status page say about a source. */
export interface SourceStatus {
  readonly state: 'ok' | 'starting' | 'failing' | 'missing' | 'disabled';
  readonly detail: string;
  /** More detail for doctor, one line per item (a runtime found, say). */
  readonly lines?: readonly string[];
  /** What a person can do about a source failing or missing: doctor, / and the log say it. */
  readonly todo?: string;
}

/**
 * One source of metrics (node_exporter's collector, in TypeScript). A collector fails alone:
 * a throw, a hang or garbage costs only its own series.
 */
export interface Collector {
  readonly name: string;
  /** Every family this collector may emit. */
  readonly metrics: readonly MetricDef[];
  /** Starts background sources (long-lived streams). Must not throw for a missing source. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** Resolves once the first data is in or the source is known to be failing; for `once`. */
  ready?(timeoutMs: number): Promise<void>;
  /**
   * Writes current samples, or throws a CollectorError. `handOver` fires when the scrape can
   * wait no longer: a collector still reading its source then writes what it already knows
   * and returns at once (the read may go on in the background). One that does not return is
   * cut off soon after, and its series are left out of that scrape.
   */
  collect(out: Emitter, handOver: AbortSignal): Promise<void> | void;
  status(): SourceStatus;
}

/** A failure with a bounded reason, used as the `reason` label of inferwatch_source_errors_total. */
export class CollectorError extends Error {
  /** True when the source already counted this failure as it happened (a stream's exit, say). */
  readonly counted: boolean;

  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown; counted?: boolean },
  ) {
    super(message, options);
    this.name = 'CollectorError';
    this.counted = options?.counted ?? false;
  }
}

/** The bounded reason and the message of anything a source read threw. */
export function failureOf(error: unknown): { reason: string; message: string } {
  if (error instanceof CollectorError || error instanceof HttpError)
    return { reason: error.reason, message: error.message };
  return { reason: 'error', message: error instanceof Error ? error.message : String(error) };
}
