import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { keepAliveAgents } from '../core/http.js';

/** A streaming POST: the status once headers are in, then the body as it arrives. */
export interface StreamingResponse {
  readonly status: number;
  readonly body: AsyncIterable<Uint8Array>;
}

export interface StreamingHttp {
  /** Rejects when no connection or no response headers come; the signal aborts it all. */
  post(
    url: string,
    request: {
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string;
      readonly signal: AbortSignal;
    },
  ): Promise<StreamingResponse>;
}

/**
 * node:http over the agent's keep-alive pools, the ones its other reads of the runtime use:
 * the probe measures the server, not a handshake (nor, on a process's first request, the
 * loading of a second HTTP stack). Redirects are not followed.
 */
export const nodeStreaming: StreamingHttp = {
  post(url, request) {
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const tls = target.protocol === 'https:';
      const req = (tls ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        agent: tls ? keepAliveAgents.https : keepAliveAgents.http,
        signal: request.signal,
      });
      req.once('response', (res: IncomingMessage) =>
        resolve({ status: res.statusCode ?? 0, body: res }),
      );
      req.once('error', reject);
      req.end(request.body);
    });
  },
};
