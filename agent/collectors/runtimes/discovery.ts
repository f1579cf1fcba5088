import { formatHostPort } from '../../core/listen.js';
import { HttpError, type HttpClient } from '../../core/http.js';
import type { Place } from '../../shared/pod.js';
import type { RuntimeAdapter } from './adapter.js';
import { ADAPTERS } from './adapters/index.js';
import { runtimeApi } from './api.js';

export interface Discovered {
  readonly adapter: RuntimeAdapter;
  readonly url: string;
  /** Its series' target label; the URL's host:port when not given. */
  readonly name?: string;
  /** The pod it runs in, found among this node's pods. */
  readonly place?: Place;
}

export const DEFAULT_PORTS: readonly number[] = [
  ...new Set(ADAPTERS.flatMap((a) => a.defaultPorts)),
];

/** Small enough for any health answer; a server that sends more is still there. */
const ALIVE_MAX_BYTES = 64 * 1024;

/**
 * Identifies the runtime answering at `url` by what its small endpoints say (never `/`, which
 * is a web UI on some: llama.cpp's is over a megabyte), trying the adapters that listen on its
 * port by default first, then the others. Each endpoint is asked once.
 */
export async function identify(
  http: HttpClient,
  url: string,
  options: {
    timeoutMs: number;
    maxBytes: number;
    headers?: Readonly<Record<string, string>>;
    signal?: AbortSignal;
  },
): Promise<RuntimeAdapter | undefined> {
  const api = runtimeApi(
    http,
    {
      baseUrl: url,
      headers: options.headers ?? {},
      timeoutMs: options.timeoutMs,
      maxBytes: options.maxBytes,
      ...(options.signal ? { signal: options.signal } : {}),
    },
    true,
  );
  // Nothing listening: one refused connection settles it. Any answer, of any status or size,
  // says something listens.
  const alive = await http
    .get(`${url.replace(/\/+$/, '')}/health`, {
      timeoutMs: options.timeoutMs,
      maxBytes: ALIVE_MAX_BYTES,
      headers: options.headers ?? {},
      ...(options.signal ? { signal: options.signal } : {}),
    })
    .then(
      () => true,
      (error: unknown) => error instanceof HttpError && error.reason === 'too_large',
    );
  if (!alive) return undefined;
  const port = Number(new URL(url).port);
  const likely = ADAPTERS.filter((a) => a.defaultPorts.includes(port));
  const rest = ADAPTERS.filter((a) => !a.defaultPorts.includes(port));
  for (const adapter of [...likely, ...rest]) {
    if (options.signal?.aborted) return undefined;
    if (await adapter.identify(api).catch(() => false)) return adapter;
  }
  return undefined;
}

/** Every port at once, the whole pass bounded by `timeoutMs`. */
export async function discover(
  http: HttpClient,
  options: {
    host: string;
    ports: readonly number[];
    timeoutMs: number;
    requestTimeoutMs: number;
    maxBytes: number;
  },
): Promise<Discovered[]> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const found = await Promise.all(
    options.ports.map(async (port) => {
      const url = `http://${formatHostPort(options.host, port)}`;
      const adapter = await identify(http, url, {
        timeoutMs: Math.min(options.requestTimeoutMs, options.timeoutMs),
        maxBytes: options.maxBytes,
        signal,
      }).catch(() => undefined);
      return adapter ? { adapter, url } : undefined;
    }),
  );
  return found.filter((d): d is Discovered => d !== undefined);
}
