import { createServer, type Http2Server } from 'node:http2';
import { rmSync } from 'node:fs';

/** A device the kubelet has handed a container, as the pod-resources API lists it. */
export interface Allocation {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly resource: string;
  readonly devices: readonly string[];
}

/** protobuf's wire format, the part the pod-resources messages use. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function field(number: number, bytes: Uint8Array | string): number[] {
  const body = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return [...varint(number * 8 + 2), ...varint(body.length), ...body];
}

function int64(number: number, value: number): number[] {
  return [...varint(number * 8), ...varint(value)];
}

/**
 * ListPodResourcesResponse, encoded as the kubelet does, with CPU IDs and a NUMA topology on
 * each container: fields the agent does not read and must skip.
 */
export function encodeList(allocations: readonly Allocation[]): Uint8Array {
  const out: number[] = [];
  for (const a of allocations) {
    const topology = field(1, new Uint8Array(int64(1, 0)));
    const devices = new Uint8Array([
      ...field(1, a.resource),
      ...a.devices.flatMap((d) => field(2, d)),
      ...field(3, new Uint8Array(topology)),
    ]);
    const container = new Uint8Array([
      ...field(1, a.container),
      ...field(2, devices),
      ...int64(3, 4),
      ...int64(3, 5),
    ]);
    const pod = new Uint8Array([
      ...field(1, a.pod),
      ...field(2, a.namespace),
      ...field(3, container),
    ]);
    out.push(...field(1, pod));
  }
  return new Uint8Array(out);
}

/**
 * The kubelet's pod-resources gRPC server in test/: HTTP/2 on a unix socket, List answered
 * with gRPC framing and trailers; other methods answer UNIMPLEMENTED as a kubelet does.
 */
export class FakeKubelet {
  private readonly server: Http2Server;
  allocations: Allocation[] = [];
  calls = 0;

  constructor(readonly socket: string) {
    this.server = createServer();
    this.server.on('stream', (stream, headers) => {
      this.calls++;
      stream.on('data', () => undefined);
      stream.on('end', () => {
        if (headers[':path'] !== '/v1.PodResourcesLister/List') {
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
            { endStream: true },
          );
          return;
        }
        const message = encodeList(this.allocations);
        const frame = Buffer.alloc(5 + message.length);
        frame.writeUInt32BE(message.length, 1);
        frame.set(message, 5);
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc' },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame);
      });
    });
  }

  async listen(): Promise<void> {
    rmSync(this.socket, { force: true });
    await new Promise<void>((resolve) => this.server.listen(this.socket, resolve));
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
