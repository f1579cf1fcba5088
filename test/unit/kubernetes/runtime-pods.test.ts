import { describe, expect, it } from 'vitest';
import { RuntimesCollector } from '../../../agent/collectors/runtimes/collector.js';
import { HttpError, type HttpClient } from '../../../agent/core/http.js';
import { NodePods } from '../../../agent/shared/node-pods.js';
import { podOf, type PodView } from '../../../agent/shared/pod.js';
import { podObject } from '../../fake/kube-api.js';
import { collectorDeps } from '../../helpers/collector-deps.js';

function vllmPod(name: string, ip: string): PodView {
  const read = podOf(
    podObject(
      {
        name,
        namespace: 'serving',
        uid: `uid-${name}`,
        nodeName: 'gpu-1',
        ip,
        containers: [
          { name: 'vllm', image: 'vllm/vllm-openai:v0.11.0', ports: [{ containerPort: 8000 }] },
        ],
        annotations: { 'inferwatch.io/runtime': 'vllm' },
      },
      '1',
    ),
  );
  if ('error' in read) throw new Error(read.error);
  return read.pod;
}

/** Every request to a runtime takes this long, then finds nothing: a slow pass. */
const slow = (ms: number): HttpClient => ({
  async get() {
    await new Promise((r) => setTimeout(r, ms));
    throw new HttpError('unreachable', 'connection refused (ECONNREFUSED)');
  },
});

describe('runtime pods as they change', () => {
  it('a pod that comes while a look is under way is found by one more look right after it', async () => {
    const pods = new NodePods();
    pods.active = true;
    const a = vllmPod('llama-0', '127.0.0.9');
    pods.set(new Map([[a.uid, a]]));
    const deps = collectorDeps({ nodePods: pods, http: slow(1500) });
    const collector = new RuntimesCollector(
      {
        targets: [],
        timeoutMs: 5000,
        maxBodyBytes: 1 << 20,
        refreshIntervalMs: 300_000,
        maxModels: 10,
        maxStalenessMs: 60_000,
        discovery: { host: '127.0.0.1', ports: [8000], timeoutMs: 3000 },
        proxied: new Map(),
      },
      deps,
    );
    await collector.start();
    try {
      // The first look reads llama-0's facts for 1.5 s; llama-1 comes 0.2 s into it.
      await new Promise((r) => setTimeout(r, 200));
      const b = vllmPod('llama-1', '127.0.0.10');
      pods.set(
        new Map([
          [a.uid, a],
          [b.uid, b],
        ]),
      );
      const targets = () => deps.runtimeEndpoints.current.map((e) => e.target).sort();
      const deadline = Date.now() + 6000;
      while (targets().length < 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(targets()).toEqual(['serving/llama-0:8000', 'serving/llama-1:8000']);
    } finally {
      await collector.stop();
    }
  }, 10_000);
});
