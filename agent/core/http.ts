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

export type HttpFailure = 'timeout' | 'unreachable' | 'too_large' | 'aborted';

export class HttpError extends Error {
  constructor(
    readonly reason: HttpFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/** Node's fetch (undici, with keep-alive), with a deadline over the whole exchange and a body cap. */
export const fetchClient: HttpClient = {
  async get(url, request) {
    const deadline = AbortSignal.timeout(request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    const fail = (error: unknown): never => {
      if (error instanceof HttpError) throw error;
      if (deadline.aborted)
        throw new HttpError('timeout', `no complete answer within ${request.timeoutMs} ms`);
      if (request.signal?.aborted) throw new HttpError('aborted', 'cancelled');
      throw new HttpError('unreachable', describe(error), { cause: error });
    };
    let response: Response;
    try {
      response = await fetch(url, { headers: request.headers, signal, redirect: 'error' });
    } catch (error) {
      return fail(error);
    }
    const declared = Number(response.headers.get('content-length'));
    if (declared > request.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge(request.maxBytes);
    }
    try {
      const body = await readCapped(response, request.maxBytes);
      return {
        status: response.status,
        body,
      };
    } catch (error) {
      return fail(error);
    }
  },
};

/** A response's body as text, failing with too_large past `maxBytes`. */
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

function describe(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  if (cause?.code) return cause.code;
  return error instanceof Error ? error.message : String(error);
}
