import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  candidatesOf,
  cgroupPlace,
  dcgmUrlOf,
  isDcgmExporter,
  podOf,
  type PodView,
} from '../../../agent/shared/pod.js';
import { podObject } from '../../fake/kube-api.js';
import { ROOT } from '../../helpers/fixtures.js';

const DIR = join(ROOT, 'test/fixtures/kubernetes');
const captured = JSON.parse(
  readFileSync(join(DIR, 'pod_hello-world_kubectl-1.29.3_calico.json'), 'utf8'),
) as unknown;

function pod(object: unknown): PodView {
  const read = podOf(object);
  if ('error' in read) throw new Error(read.error);
  return read.pod;
}

describe('a pod, read from the API', () => {
  it('reads a captured Pod whole: identity, address, readiness, containers and their runtime IDs', () => {
    const p = pod(captured);
    expect(p).toMatchObject({
      uid: '0b295a7b-7365-44a0-a983-708112008c8b',
      namespace: 'default',
      name: 'hello-world',
      phase: 'Running',
      ip: '10.0.15.103',
      ready: true,
    });
    expect(p.containers).toEqual([
      { name: 'hello-world', image: 'gcr.io/google-samples/hello-app:1.0', ports: [] },
    ]);
    expect(
      p.containerIds.get('757c70c48a431c72d2facb2a3fa91c662922687eb9264195379fde9544f38dee'),
    ).toBe('hello-world');
  });

  it('says which field is missing from what is not a pod', () => {
    expect(podOf({ kind: 'Status', code: 410 })).toEqual({
      error: expect.stringContaining('metadata') as string,
    });
  });

  it('a pod being deleted is Terminating, whatever its phase says', () => {
    const object = structuredClone(captured) as { metadata: Record<string, unknown> };
    object.metadata['deletionTimestamp'] = '2024-06-25T15:50:00Z';
    expect(pod(object).phase).toBe('Terminating');
  });
});

const vllm = (over: Partial<Parameters<typeof podObject>[0]> = {}) =>
  pod(
    podObject(
      {
        name: 'llama-8b-0',
        namespace: 'serving',
        uid: '11111111-2222-3333-4444-555555555555',
        nodeName: 'gpu-1',
        ip: '10.1.2.3',
        containers: [
          {
            name: 'vllm',
            image: 'vllm/vllm-openai:v0.11.0',
            ports: [{ containerPort: 8000, name: 'http' }],
          },
          { name: 'sidecar', image: 'envoy:1.31', ports: [{ containerPort: 15090 }] },
        ],
        ...over,
      },
      '42',
    ),
  );

describe('where a runtime may answer on a pod', () => {
  it('every declared TCP port, at the pod address, with the container that declares it', () => {
    expect(candidatesOf(vllm()).map((c) => [c.url, c.place.container])).toEqual([
      ['http://10.1.2.3:8000', 'vllm'],
      ['http://10.1.2.3:15090', 'sidecar'],
    ]);
  });

  it('ports the annotation adds, and the runtime it names', () => {
    const p = vllm({
      containers: [{ name: 'llama', image: 'ghcr.io/ggml-org/llama.cpp:server' }],
      annotations: {
        'inferwatch.io/ports': '8080, 9999999, x',
        'inferwatch.io/runtime': 'llamacpp',
      },
    });
    expect(candidatesOf(p)).toEqual([
      expect.objectContaining({
        url: 'http://10.1.2.3:8080',
        kind: 'llamacpp',
        place: { namespace: 'serving', pod: 'llama-8b-0', container: 'llama' },
      }),
    ]);
  });

  it('none on a pod not running, without an address, opted out, the agent itself or a dcgm-exporter', () => {
    expect(candidatesOf(vllm({ phase: 'Pending' }))).toEqual([]);
    expect(candidatesOf(vllm({ ip: '' }))).toEqual([]);
    expect(candidatesOf(vllm({ annotations: { 'inferwatch.io/scrape': 'false' } }))).toEqual([]);
    expect(candidatesOf(vllm({ labels: { 'app.kubernetes.io/name': 'inferwatch' } }))).toEqual([]);
    expect(candidatesOf(vllm({ labels: { app: 'nvidia-dcgm-exporter' } }))).toEqual([]);
  });

  it('an IPv6 pod address is bracketed', () => {
    expect(candidatesOf(vllm({ ip: 'fd00::12' }))[0]?.url).toBe('http://[fd00::12]:8000');
  });
});

describe('dcgm-exporter as the GPU Operator runs it', () => {
  const dcgm = (
    labels: Record<string, string>,
    image = 'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.0-ubuntu22.04',
  ) =>
    pod(
      podObject(
        {
          name: 'nvidia-dcgm-exporter-x7k2p',
          namespace: 'gpu-operator',
          uid: '99999999-2222-3333-4444-555555555555',
          nodeName: 'gpu-1',
          ip: '10.1.9.9',
          labels,
          containers: [
            {
              name: 'nvidia-dcgm-exporter',
              image,
              ports: [{ containerPort: 9400, name: 'metrics' }],
            },
          ],
        },
        '1',
      ),
    );

  it('is told by its label or its image, and read on its metrics port', () => {
    expect(isDcgmExporter(dcgm({ app: 'nvidia-dcgm-exporter' }))).toBe(true);
    expect(
      isDcgmExporter(dcgm({}, 'nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04')),
    ).toBe(true);
    expect(isDcgmExporter(dcgm({}, 'example.com/not-dcgm-exporter-at-all:1'))).toBe(false);
    expect(dcgmUrlOf(dcgm({ app: 'nvidia-dcgm-exporter' }))).toBe('http://10.1.9.9:9400/metrics');
  });
});

describe('the pod a process runs in, from its cgroup', () => {
  const lines = readFileSync(join(DIR, 'cgroup_kubelet-drivers.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const pods = new Map([[pod(captured).uid, pod(captured)]]);

  it('under the systemd driver (cgroup v2) and the cgroupfs driver (v1): pod and container', () => {
    for (const line of [lines[0], lines[2]])
      expect(cgroupPlace(line ?? '', pods)).toEqual({
        namespace: 'default',
        pod: 'hello-world',
        container: 'hello-world',
      });
  });

  it('nothing for a pod the watch does not know, or a process outside any pod', () => {
    expect(cgroupPlace(lines[1] ?? '', pods)).toBeUndefined();
    expect(cgroupPlace('0::/system.slice/containerd.service', pods)).toBeUndefined();
  });
});
