import { describe, expect, it } from 'vitest';
import { PodDiscovery } from '../../../agent/collectors/runtimes/pod-discovery.js';
import { HttpError, type HttpClient } from '../../../agent/core/http.js';
import { podOf, type PodView } from '../../../agent/shared/pod.js';
import { podObject } from '../../fake/kube-api.js';

function pods(n: number, annotations: Record<string, string> = {}): PodView[] {
  return Array.from({ length: n }, (_, i) => {
    const read = podOf(
      podObject(
        {
          name: `worker-${i}`,
          namespace: 'batch',
          uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          nodeName: 'gpu-1',
          ip: `10.1.${Math.floor(i / 250)}.${i % 250}`,
          containers: [{ name: 'app', image: 'example/app:1', ports: [{ containerPort: 8080 }] }],
          annotations,
        },
        '1',
      ),
    );
    if ('error' in read) throw new Error(read.error);
    return read.pod;
  });
}

/** Every address refuses, a little later: what a node of pods that are not runtimes answers. */
function refusing() {
  let inFlight = 0;
  const seen = { calls: 0, most: 0 };
  const http: HttpClient = {
    async get() {
      seen.calls++;
      seen.most = Math.max(seen.most, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      throw new HttpError('unreachable', 'connection refused (ECONNREFUSED)');
    },
  };
  return { http, seen };
}

describe('runtimes among many pods', () => {
  it('a node of 120 pods is asked in waves of 8, once each, and not again until asked to retry', async () => {
    const { http, seen } = refusing();
    let now = 0;
    const discovery = new PodDiscovery(http, {
      timeoutMs: 10_000,
      requestTimeoutMs: 1000,
      maxBytes: 1 << 20,
      retryMs: 300_000,
      now: () => now,
    });
    const node = pods(120);
    expect(await discovery.discover(node)).toEqual([]);
    // One refused health check settles each address.
    expect(seen.calls).toBe(120);
    expect(seen.most).toBe(8);
    await discovery.discover(node);
    expect(seen.calls).toBe(120);
    now = 300_000;
    await discovery.discover(node);
    expect(seen.calls).toBe(240);
  });

  it('a pod whose annotation names its runtime is taken at its word, without a request', async () => {
    const { http, seen } = refusing();
    const discovery = new PodDiscovery(http, {
      timeoutMs: 10_000,
      requestTimeoutMs: 1000,
      maxBytes: 1 << 20,
      retryMs: 300_000,
      now: () => 0,
    });
    const found = await discovery.discover(pods(2, { 'inferwatch.io/runtime': 'vllm' }));
    expect(found.map((f) => [f.name, f.adapter.kind, f.url])).toEqual([
      ['batch/worker-0:8080', 'vllm', 'http://10.1.0.0:8080'],
      ['batch/worker-1:8080', 'vllm', 'http://10.1.0.1:8080'],
    ]);
    expect(seen.calls).toBe(0);
  });
});
