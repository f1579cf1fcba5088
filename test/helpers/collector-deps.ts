import { GpuInventory } from '../../agent/collectors/gpu-inventory.js';
import { GpuSources } from '../../agent/collectors/gpu-sources.js';
import type { CollectorDeps } from '../../agent/collectors/registry.js';
import { RuntimeEndpoints } from '../../agent/collectors/runtime-endpoints.js';
import { Durable } from '../../agent/core/durable.js';
import { httpClient } from '../../agent/core/http.js';
import { createLogger } from '../../agent/core/logger.js';
import { StateLog } from '../../agent/core/state-log.js';
import { ProbeStore } from '../../agent/probe/store.js';
import { MeteredTraffic } from '../../agent/proxy/ledger.js';

/** What a collector needs from the world, quiet and inert; tests override what they exercise. */
export function collectorDeps(overrides: Partial<CollectorDeps> = {}): CollectorDeps {
  const logger = overrides.logger ?? createLogger('error', { write: () => undefined });
  return {
    runner: { start: () => Promise.reject(new Error('no processes in this test')) } as never,
    http: httpClient,
    clock: { monotonicMs: () => 0, epochMs: () => 0 },
    logger,
    errors: { count: () => undefined },
    stateLog: new StateLog(logger),
    inventory: new GpuInventory(),
    sources: new GpuSources(),
    runtimeEndpoints: new RuntimeEndpoints(),
    probeStore: new ProbeStore(),
    traffic: new MeteredTraffic(),
    durable: new Durable(),
    ...overrides,
  };
}
