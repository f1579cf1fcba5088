import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Every HTTP call the agent makes is bounded in time and in size. */
export interface HttpRequest {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

export interface HttpClient {
  get(url: string, request: HttpRequest): Promise<HttpResponse>;
}

/**
 * Why a request failed. `unreachable`: nothing took the connection (refused, reset, no route,
 * no name, no TCP handshake in time): the server is down. `timeout`: it took the connection
 * and did not answer in full in time: it is up but unresponsive (busy, saturated, hung).
 */
export type HttpFailure = 'timeout' | 'unreachable' | 'too_large' | 'aborted' | 'tls' | 'protocol';

/** A failed request. Its message is built from fixed words and error codes only: never a header. */
export class HttpError extends Error {
  constructor(
    readonly reason: HttpFailure,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The agent's connection pools, one per scheme, shared by every request it makes. */
export const keepAliveAgents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 4 }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 4 }),
};
const agents = keepAliveAgents;

const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EADDRNOTAVAIL: 'address not available',
  ETIMEDOUT: 'connection timed out',
};

/**
 * GET over node:http with keep-alive, one deadline over the whole exchange and a cap on the
 * body. It tells a server that never took the connection from one that took it and fell
 * silent, which fetch cannot: the first is down, the second only busy. Redirects are not
 * followed (a 3xx is an answer like any other).
 */
export const httpClient: HttpClient = {
  get(url, request) {
    return new Promise<HttpResponse>((resolve, reject) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return reject(new HttpError('unreachable', 'not a URL'));
      }
      const tls = target.protocol === 'https:';
      let connected = false;
      let settled = false;
      let req: ClientRequest | undefined;
      const finish = (error: HttpError | undefined, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        if (error) {
          req?.destroy();
          reject(error);
        } else resolve(response as HttpResponse);
      };
      const timer = setTimeout(
        () =>
          finish(
            connected
              ? new HttpError('timeout', `no complete answer within ${request.timeoutMs} ms`)
              : new HttpError(
                  'unreachable',
                  `no connection within ${request.timeoutMs} ms (connect timeout)`,
                ),
          ),
        request.timeoutMs,
      );
      const onAbort = () => finish(new HttpError('aborted', 'cancelled'));
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        req = (tls ? httpsRequest : httpRequest)(target, {
          method: 'GET',
          headers: { ...request.headers },
          agent: tls ? agents.https : agents.http,
        });
      } catch (error) {
        // An invalid header: Node's message names the header; ours names nothing.
        return finish(
          new HttpError('unreachable', `request refused before sending (${codeOf(error)})`),
        );
      }
      req.on('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once(tls ? 'secureConnect' : 'connect', () => (connected = true));
      });
      req.on('error', (error) => finish(classify(error, connected)));
      req.on('response', (res) => {
        connected = true;
        const declared = Number(res.headers['content-length']);
        if (declared > request.maxBytes) return finish(tooLarge(request.maxBytes));
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.byteLength;
          if (total > request.maxBytes) return finish(tooLarge(request.maxBytes));
          chunks.push(chunk);
        });
        res.on('end', () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks, total).toString('utf8'),
          }),
        );
        res.on('error', (error) => finish(classify(error, true)));
        res.on('aborted', () =>
          finish(new HttpError('unreachable', 'connection reset mid-answer')),
        );
      });
      req.end();
    });
  },
};

function classify(error: unknown, connected: boolean): HttpError {
  const code = codeOf(error);
  if (code.startsWith('ERR_TLS') || /CERT|SSL|SELF_SIGNED/.test(code))
    return new HttpError('tls', `TLS failed (${code})`);
  const words = UNREACHABLE[code];
  if (words) return new HttpError('unreachable', `${words} (${code})`);
  // It took the connection and answered with something that is not HTTP.
  if (connected) return new HttpError('protocol', `the answer is not HTTP (${code})`);
  return new HttpError('unreachable', `request failed (${code})`);
}

/**
 * A failure's error code (`ECONNREFUSED`, `ERR_OSSL_PEM_NO_START_LINE`), its own or its
 * cause's, if it has one that looks like a code: the one part of a library's error that
 * cannot quote what it was given.
 */
export function errorCode(error: unknown): string | undefined {
  const failure = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = failure?.code ?? failure?.cause?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

function codeOf(error: unknown): string {
  return errorCode(error) ?? 'EUNKNOWN';
}

/** The server took the connection and did not answer in time (or the read was called off): busy, not down. */
export function isUnresponsive(error: unknown): boolean {
  return error instanceof HttpError && (error.reason === 'timeout' || error.reason === 'aborted');
}

/** A fetch Response's body as text, failing with too_large past `maxBytes`. */
export async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError('too_large', `the answer is larger than ${maxBytes} bytes`);
}
