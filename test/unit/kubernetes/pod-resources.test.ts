import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unaryCall } from '../../../agent/collectors/kubernetes/pod-resources/client.js';
import {
  decodeList,
  LIST_METHOD,
  ProtoError,
} from '../../../agent/collectors/kubernetes/pod-resources/proto.js';
import { encodeList, FakeKubelet } from '../../fake/kubelet.js';

const ALLOCATIONS = [
  {
    namespace: 'serving',
    pod: 'llama-8b-0',
    container: 'vllm',
    resource: 'nvidia.com/gpu',
    devices: [
      'GPU-6f5e8c1a-0000-4000-8000-000000000000',
      'GPU-6f5e8c1a-0001-4000-8000-000000000001',
    ],
  },
  {
    namespace: 'batch',
    pod: 'embedder',
    container: 'tei',
    resource: 'nvidia.com/mig-1g.10gb',
    devices: ['MIG-5c2e0b8e-1a1b-5b7c-9c1d-0e4f1a2b3c4d'],
  },
];

describe("the kubelet's pod-resources answer", () => {
  it('is flattened to one allocation per device, the fields it does not read skipped', () => {
    const { allocations, dropped } = decodeList(encodeList(ALLOCATIONS), 100);
    expect(dropped).toBe(0);
    expect(allocations).toEqual([
      {
        resource: 'nvidia.com/gpu',
        device: 'GPU-6f5e8c1a-0000-4000-8000-000000000000',
        namespace: 'serving',
        pod: 'llama-8b-0',
        container: 'vllm',
      },
      {
        resource: 'nvidia.com/gpu',
        device: 'GPU-6f5e8c1a-0001-4000-8000-000000000001',
        namespace: 'serving',
        pod: 'llama-8b-0',
        container: 'vllm',
      },
      {
        resource: 'nvidia.com/mig-1g.10gb',
        device: 'MIG-5c2e0b8e-1a1b-5b7c-9c1d-0e4f1a2b3c4d',
        namespace: 'batch',
        pod: 'embedder',
        container: 'tei',
      },
    ]);
  });

  it('counts what is over the cap, and refuses a truncated message', () => {
    expect(decodeList(encodeList(ALLOCATIONS), 1)).toMatchObject({ dropped: 2 });
    const bytes = encodeList(ALLOCATIONS);
    expect(() => decodeList(bytes.subarray(0, bytes.length - 3), 100)).toThrow(ProtoError);
  });
});

describe('a gRPC call over the unix socket', () => {
  let kubelet: FakeKubelet | undefined;
  afterEach(async () => {
    await kubelet?.close();
    kubelet = undefined;
  });

  it('asks List and gets the framed answer', async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'inferwatch-kubelet-')), 'kubelet.sock');
    kubelet = new FakeKubelet(socket);
    kubelet.allocations = ALLOCATIONS;
    await kubelet.listen();
    const body = await unaryCall(socket, LIST_METHOD, new Uint8Array(), {
      timeoutMs: 2000,
      maxBytes: 1 << 20,
    });
    expect(decodeList(body, 100).allocations).toHaveLength(3);
  });

  it('a method the kubelet lacks is a gRPC status, a missing socket is unreachable, a large answer too large', async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'inferwatch-kubelet-')), 'kubelet.sock');
    kubelet = new FakeKubelet(socket);
    kubelet.allocations = ALLOCATIONS;
    await kubelet.listen();
    await expect(
      unaryCall(socket, '/v1.PodResourcesLister/Nope', new Uint8Array(), {
        timeoutMs: 2000,
        maxBytes: 1 << 20,
      }),
    ).rejects.toMatchObject({ reason: 'status' });
    await expect(
      unaryCall(socket, LIST_METHOD, new Uint8Array(), { timeoutMs: 2000, maxBytes: 16 }),
    ).rejects.toMatchObject({ reason: 'too_large' });
    await expect(
      unaryCall(`${socket}.absent`, LIST_METHOD, new Uint8Array(), {
        timeoutMs: 2000,
        maxBytes: 1 << 20,
      }),
    ).rejects.toMatchObject({ reason: 'unreachable' });
  });
});
