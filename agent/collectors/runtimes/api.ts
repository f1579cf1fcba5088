import type { HttpClient, HttpResponse } from '../../core/http.js';
import type { RuntimeApi } from './adapter.js';

export interface ApiOptions {
  readonly baseUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

/** A runtime's API with every request bounded; answers are memoized when `memoize` is set. */
export function runtimeApi(http: HttpClient, options: ApiOptions, memoize = false): RuntimeApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const cache = new Map<string, Promise<HttpResponse>>();
  const get = (path: string) =>
    http.get(`${base}${path}`, {
      timeoutMs: options.timeoutMs,
      maxBytes: options.maxBytes,
      headers: { accept: 'text/plain, application/json;q=0.9, */*;q=0.1', ...options.headers },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  return {
    get(path) {
      if (!memoize) return get(path);
      let answer = cache.get(path);
      if (!answer) cache.set(path, (answer = get(path)));
      return answer;
    },
  };
}
