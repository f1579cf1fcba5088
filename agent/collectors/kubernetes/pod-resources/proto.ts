/**
 * The kubelet's pod-resources API (package v1, service PodResourcesLister), the part the agent
 * reads: List's answer, decoded from protobuf's wire format by field number. Unknown fields
 * (CPU IDs, memory, dynamic resources, topology) are skipped, so a newer kubelet still reads.
 *
 *   ListPodResourcesResponse { repeated PodResources pod_resources = 1; }
 *   PodResources             { string name = 1; string namespace = 2;
 *                              repeated ContainerResources containers = 3; }
 *   ContainerResources       { string name = 1; repeated ContainerDevices devices = 2; ... }
 *   ContainerDevices         { string resource_name = 1; repeated string device_ids = 2; ... }
 */
export const LIST_METHOD = '/v1.PodResourcesLister/List';

export interface DeviceAllocation {
  readonly resource: string;
  readonly device: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
}

export class ProtoError extends Error {}

/** One field: its number, and its bytes when length-delimited. */
type Field = { readonly number: number; readonly bytes?: Uint8Array };

function* fields(buffer: Uint8Array): Generator<Field> {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= buffer.length) throw new ProtoError('truncated varint');
      const byte = buffer[at++] as number;
      // Past 2^53 precision is lost; lengths and tags never get there.
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
      if (shift > 63) throw new ProtoError('varint too long');
    }
  };
  while (at < buffer.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    switch (key & 7) {
      case 0:
        varint();
        yield { number };
        break;
      case 1:
        at += 8;
        yield { number };
        break;
      case 2: {
        const length = varint();
        if (at + length > buffer.length) throw new ProtoError('truncated field');
        yield { number, bytes: buffer.subarray(at, at + length) };
        at += length;
        break;
      }
      case 5:
        at += 4;
        yield { number };
        break;
      default:
        throw new ProtoError(`unsupported wire type ${key & 7}`);
    }
    if (at > buffer.length) throw new ProtoError('truncated field');
  }
}

const text = new TextDecoder('utf-8', { fatal: false });
const str = (bytes: Uint8Array | undefined) => (bytes ? text.decode(bytes) : '');

/** Every device allocated to a container, flattened; at most `max` (the rest counted). */
export function decodeList(
  buffer: Uint8Array,
  max: number,
): { allocations: DeviceAllocation[]; dropped: number } {
  const allocations: DeviceAllocation[] = [];
  let dropped = 0;
  for (const podField of fields(buffer)) {
    if (podField.number !== 1 || !podField.bytes) continue;
    let pod = '';
    let namespace = '';
    const containers: Uint8Array[] = [];
    for (const f of fields(podField.bytes)) {
      if (f.number === 1) pod = str(f.bytes);
      else if (f.number === 2) namespace = str(f.bytes);
      else if (f.number === 3 && f.bytes) containers.push(f.bytes);
    }
    for (const containerBytes of containers) {
      let container = '';
      const devices: Uint8Array[] = [];
      for (const f of fields(containerBytes)) {
        if (f.number === 1) container = str(f.bytes);
        else if (f.number === 2 && f.bytes) devices.push(f.bytes);
      }
      for (const deviceBytes of devices) {
        let resource = '';
        const ids: string[] = [];
        for (const f of fields(deviceBytes)) {
          if (f.number === 1) resource = str(f.bytes);
          else if (f.number === 2) ids.push(str(f.bytes));
        }
        for (const device of ids) {
          if (allocations.length >= max) dropped++;
          else allocations.push({ resource, device, namespace, pod, container });
        }
      }
    }
  }
  return { allocations, dropped };
}

/** NVIDIA's resources: whole GPUs (`nvidia.com/gpu`) and MIG devices (`nvidia.com/mig-1g.10gb`). */
export function isNvidiaResource(resource: string): boolean {
  return resource === 'nvidia.com/gpu' || resource.startsWith('nvidia.com/mig-');
}
