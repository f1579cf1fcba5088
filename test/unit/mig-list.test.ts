import { describe, expect, it } from 'vitest';
import { parseMigList } from '../../agent/collectors/nvidia-smi/mig-list.js';
import { readFixture } from '../helpers/fixtures.js';

describe('nvidia-smi -L', () => {
  it('places each MIG device on its GPU, over several GPUs', () => {
    const devices = parseMigList(
      readFixture('nvidia-smi', 'nvidia-smi_L_a100-80gb-x2-mig-1g.10gb_yandex-docs.txt'),
    );
    expect(devices.size).toBe(4);
    expect(devices.get('MIG-53864714-0a66-5df2-9007-9268e30d9a72')).toEqual({
      gpuUuid: 'GPU-9c73eb7b-8d6d-6c0e-dc13-97873e2ede40',
      profile: '1g.10gb',
    });
    expect(devices.get('MIG-d5a46a2e-1d77-575d-99e3-1f96c8555a2e')?.gpuUuid).toBe(
      'GPU-c92e2d5d-4a69-f1cd-4df0-305f8606705a',
    );
  });

  it('reads the list as a pod sees it, and nothing from a GPU without MIG devices', () => {
    const inPod = parseMigList(
      readFixture('nvidia-smi', 'nvidia-smi_L_h100-80gb-mig-3g.40gb_in-pod_gpustack-docs.txt'),
    );
    expect([...inPod]).toEqual([
      [
        'MIG-b3061c09-2a4c-5026-a575-79f86a5bb12c',
        { gpuUuid: 'GPU-950792bf-a01c-3f1a-e122-3473e67f54b2', profile: '3g.40gb' },
      ],
    ]);
    expect(parseMigList('GPU 0: NVIDIA L40S (UUID: GPU-1234)\n').size).toBe(0);
  });
});
