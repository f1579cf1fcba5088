import { afterEach, describe, expect, it } from 'vitest';
import { kubernetes } from '../../../agent/collectors/kubernetes/index.js';
import { WATCH_SYNCED } from '../../../agent/collectors/kubernetes/metrics.js';
import type { Collector } from '../../../agent/core/collector.js';
import { parseConfig } from '../../../agent/config/load.js';
import { collectorDeps } from '../../helpers/collector-deps.js';
import { Recorder } from '../../helpers/recorder.js';

/** The variables a pod has, as this test process found them: put back after each test. */
const saved = Object.fromEntries(
  ['NODE_NAME', 'KUBERNETES_SERVICE_HOST'].map((k) => [k, process.env[k]] as const),
);
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('the kubernetes source, as the config and the pod make it', () => {
  it('off outside a cluster: nothing is made', () => {
    delete process.env['KUBERNETES_SERVICE_HOST'];
    expect(kubernetes.create(parseConfig({}), collectorDeps())).toEqual([]);
  });

  it('in a pod that does not say its node: a failing source that says what to do, not a log line alone', async () => {
    delete process.env['NODE_NAME'];
    const config = parseConfig({
      collectors: { kubernetes: { enabled: true, api_url: 'https://127.0.0.1:6443' } },
    });
    const [source] = kubernetes.create(config, collectorDeps()) as Collector[];
    await source?.start?.();
    expect(source?.status()).toMatchObject({
      state: 'failing',
      todo: expect.stringContaining('NODE_NAME') as string,
    });
    const out = new Recorder();
    await source?.collect(out, new AbortController().signal);
    expect(out.value(WATCH_SYNCED)).toBe(0);
    expect(out.degraded).toContain('the node is unknown');
  });

  it('with its node named: the watch', () => {
    const config = parseConfig({
      collectors: {
        kubernetes: { enabled: true, api_url: 'https://127.0.0.1:6443', node_name: 'gpu-1' },
      },
    });
    const [source] = kubernetes.create(config, collectorDeps()) as Collector[];
    expect(source?.status()).toMatchObject({
      state: 'starting',
      detail: 'node gpu-1: listing pods',
    });
  });
});
