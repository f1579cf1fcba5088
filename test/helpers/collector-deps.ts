import { adapterFor } from '../../agent/collectors/runtimes/adapters/index.js';
import { GpuFacts } from '../../agent/shared/gpu-facts.js';
import type { CollectorDeps } from '../../agent/shared/collector-factory.js';
import { RuntimeEndpoints } from '../../agent/shared/runtime-endpoints.js';
import { NodePods } from '../../agent/shared/node-pods.js';
import { systemTimers } from '../../agent/core/clock.js';
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
    timers: systemTimers,
    logger,
    errors: { count: () => undefined },
    stateLog: new StateLog(logger),
    gpuFacts: new GpuFacts(),
    runtimeEndpoints: new RuntimeEndpoints(),
    nodePods: new NodePods(),
    generationOf: (kind) => adapterFor(kind).generation,
    probeStore: new ProbeStore(),
    traffic: new MeteredTraffic(),
    durable: new Durable(),
    ...overrides,
  };
}
