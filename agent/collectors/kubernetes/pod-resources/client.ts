import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { errorCode } from '../../../core/http.js';

export class GrpcError extends Error {
  constructor(
    readonly reason: 'unreachable' | 'timeout' | 'too_large' | 'protocol' | 'status',
    message: string,
  ) {
    super(message);
    this.name = 'GrpcError';
  }
}

/**
 * One unary gRPC call over a unix socket (HTTP/2 with gRPC's 5-byte message framing), as the
 * kubelet serves its local APIs: bounded in time and in size, no connection kept.
 */
export function unaryCall(
  socketPath: string,
  method: string,
  request: Uint8Array,
  options: { readonly timeoutMs: number; readonly maxBytes: number },
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: GrpcError | undefined, body?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      if (error) reject(error);
      else resolve(body as Uint8Array);
    };
    const timer = setTimeout(
      () => finish(new GrpcError('timeout', `no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const session: ClientHttp2Session = connect('http://localhost', {
      createConnection: () => netConnect(socketPath),
    });
    session.on('error', (error) =>
      finish(new GrpcError('unreachable', `the socket failed (${errorCode(error) ?? 'EUNKNOWN'})`)),
    );
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: method,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let total = 0;
    let status: number | undefined;
    stream.on('response', (headers) => {
      status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      const early = headers['grpc-status'];
      if (early !== undefined && early !== '0')
        finish(new GrpcError('status', `the call failed with gRPC status ${String(early)}`));
    });
    stream.on('data', (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > options.maxBytes + 5)
        return finish(
          new GrpcError('too_large', `the answer is larger than ${options.maxBytes} bytes`),
        );
      chunks.push(chunk);
    });
    stream.on('trailers', (trailers) => {
      const code = trailers['grpc-status'];
      if (code !== undefined && code !== '0')
        finish(new GrpcError('status', `the call failed with gRPC status ${String(code)}`));
    });
    stream.on('error', (error) =>
      finish(new GrpcError('unreachable', `the call failed (${errorCode(error) ?? 'EUNKNOWN'})`)),
    );
    stream.on('end', () => {
      if (status !== 200)
        return finish(new GrpcError('protocol', `HTTP/2 status ${status ?? 'none'}`));
      const body = Buffer.concat(chunks, total);
      if (body.length === 0) return finish(undefined, new Uint8Array());
      if (body.length < 5) return finish(new GrpcError('protocol', 'a truncated gRPC frame'));
      if (body[0] !== 0) return finish(new GrpcError('protocol', 'a compressed gRPC message'));
      const length = body.readUInt32BE(1);
      if (body.length < 5 + length)
        return finish(new GrpcError('protocol', 'a truncated gRPC message'));
      finish(undefined, body.subarray(5, 5 + length));
    });
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt32BE(request.length, 1);
    frame.set(request, 5);
    stream.end(frame);
  });
}
