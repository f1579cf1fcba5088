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

const EMPTY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/** Node's fetch (undici): keep-alive connections, so a probe measures the server, not a handshake. */
export const fetchStreaming: StreamingHttp = {
  async post(url, request) {
    const response = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: request.signal,
      redirect: 'error',
    });
    return { status: response.status, body: response.body ?? EMPTY };
  },
};
