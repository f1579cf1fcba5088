import type { Facts, RuntimeAdapter } from './adapter.js';
import { KV_CACHE_USAGE, MAX_CONCURRENCY, REQUESTS_RUNNING, REQUESTS_WAITING } from './metrics.js';
import type { Reading } from './reading.js';
import type { RuntimeLoad } from '../../shared/runtime-endpoints.js';

/**
 * What live load means for this runtime: its adapter's own judgement where it has one (on
 * llama.cpp, cached prompts of idle slots fill the KV cache, so the cache is not load), the
 * queue and the KV cache otherwise.
 */
export function liveLoadOf(adapter: RuntimeAdapter, reading: Reading, facts: Facts): RuntimeLoad {
  return adapter.liveLoad ? adapter.liveLoad(reading, facts) : loadOf(reading);
}

/** The queue and KV-cache figures of one read, before folding, for the probe's do-no-harm check. */
export function loadOf(reading: Reading): RuntimeLoad {
  let waiting: number | undefined;
  let running: number | undefined;
  let kv: number | undefined;
  let max: number | undefined;
  for (const sample of reading.samples) {
    if (sample.kind !== 'gauge') continue;
    if (sample.def === REQUESTS_WAITING) waiting = (waiting ?? 0) + sample.value;
    else if (sample.def === REQUESTS_RUNNING) running = (running ?? 0) + sample.value;
    else if (sample.def === KV_CACHE_USAGE) kv = Math.max(kv ?? 0, sample.value);
    else if (sample.def === MAX_CONCURRENCY) max = (max ?? 0) + sample.value;
  }
  return {
    ...(waiting !== undefined ? { waiting } : {}),
    ...(running !== undefined ? { running } : {}),
    ...(kv !== undefined ? { kvCacheUsage: kv } : {}),
    ...(max !== undefined ? { maxConcurrency: max } : {}),
  };
}
