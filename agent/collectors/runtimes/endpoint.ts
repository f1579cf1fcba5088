import { CollectorError } from '../../core/collector.js';
import type { RuntimeEndpoint } from '../../shared/runtime-endpoints.js';
import { promptTokensCountedBy, type RuntimeAdapter } from './adapter.js';
import { liveLoadOf } from './load.js';
import type { RuntimeTarget } from './target.js';

/**
 * A target as the probe, the evaluation and the process attribution see it: how to reach it
 * (`probeUrl`: through its proxy route where one listens, so the probe measures what clients
 * get), what it is, and a fresh read of its load.
 */
export function endpointOf(
  t: RuntimeTarget,
  adapter: RuntimeAdapter,
  probeUrl: string,
): RuntimeEndpoint {
  return {
    runtime: adapter.kind,
    generation: adapter.generation,
    target: t.name,
    url: t.url,
    ...(t.place ? { place: t.place } : {}),
    probeUrl,
    headers: t.headers,
    promptTokensCounted: promptTokensCountedBy(adapter),
    runtimeVersion: () => t.facts.version,
    // A fresh read through the target's own reader: it joins a read already under way
    // instead of sending a second one, and feeds the counters like any other.
    readLoad: async (signal: AbortSignal) => {
      const inTime = await t.reader.refresh(signal);
      const last = t.reader.last;
      if (!inTime || t.reader.failure || !last)
        throw new CollectorError('no_load', `${t.name}: no fresh read of its load`);
      return liveLoadOf(adapter, last.value.reading, t.facts);
    },
  };
}
