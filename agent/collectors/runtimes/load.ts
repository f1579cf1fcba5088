import { KV_CACHE_USAGE, REQUESTS_RUNNING, REQUESTS_WAITING } from './metrics.js';
import type { Reading } from './reading.js';

/** How busy a runtime is now, as far as its metrics say; a figure it does not report is absent. */
export interface RuntimeLoad {
  /** Requests queued, over every model and engine. */
  readonly waiting?: number;
  readonly running?: number;
  /** The fullest KV cache of any model or engine, 0..1. */
  readonly kvCacheUsage?: number;
}

/** The queue and KV-cache figures of one read, before folding, for the probe's do-no-harm check. */
export function loadOf(reading: Reading): RuntimeLoad {
  let waiting: number | undefined;
  let running: number | undefined;
  let kv: number | undefined;
  for (const sample of reading.samples) {
    if (sample.kind !== 'gauge') continue;
    if (sample.def === REQUESTS_WAITING) waiting = (waiting ?? 0) + sample.value;
    else if (sample.def === REQUESTS_RUNNING) running = (running ?? 0) + sample.value;
    else if (sample.def === KV_CACHE_USAGE) kv = Math.max(kv ?? 0, sample.value);
  }
  return {
    ...(waiting !== undefined ? { waiting } : {}),
    ...(running !== undefined ? { running } : {}),
    ...(kv !== undefined ? { kvCacheUsage: kv } : {}),
  };
}
