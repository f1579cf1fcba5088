import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HttpError, errorCode } from '../../core/http.js';
import { readSmallFile } from '../../core/small-file.js';

/** How the agent reaches the API server: in a pod, its service account's token and CA. */
export interface KubeApiOptions {
  readonly url: string;
  readonly tokenFile: string | undefined;
  readonly caFile: string | undefined;
  /** Deadline for a list, and for a watch's answer to start. */
  readonly timeoutMs: number;
  readonly maxListBytes: number;
  readonly maxEventBytes: number;
}

const SMALL_FILE_BYTES = 64 * 1024;

/**
 * Read-only GETs against the API server, each bounded in time and size. The token is read
 * again for every request: projected service-account tokens are rotated by the kubelet.
 */
export class KubeApi {
  constructor(private readonly options: KubeApiOptions) {}

  /** A list, parsed; failing past the deadline or the size cap. */
  async list(path: string, signal: AbortSignal): Promise<unknown> {
    const chunks: Buffer[] = [];
    let total = 0;
    await this.get(path, signal, this.options.timeoutMs, (res, fail) => {
      res.on('data', (chunk: Buffer) => {
        total += chunk.byteLength;
        if (total > this.options.maxListBytes)
          return fail(
            new HttpError(
              'too_large',
              `the list is larger than ${this.options.maxListBytes} bytes`,
            ),
          );
        chunks.push(chunk);
      });
    });
    try {
      return JSON.parse(Buffer.concat(chunks, total).toString('utf8')) as unknown;
    } catch {
      throw new HttpError('protocol', 'the list is not JSON');
    }
  }

  /**
   * A watch: each event line parsed and handed over as it comes. Resolves when the server ends
   * the stream (its timeoutSeconds); fails when nothing, not even a bookmark, comes for
   * `idleMs`, or one event is larger than the cap.
   */
  async watch(
    path: string,
    signal: AbortSignal,
    idleMs: number,
    onEvent: (event: unknown) => void,
  ): Promise<void> {
    let pending = '';
    await this.get(path, signal, this.options.timeoutMs, (res, fail, touch) => {
      res.setEncoding('utf8');
      touch(idleMs);
      res.on('data', (chunk: string) => {
        touch(idleMs);
        pending += chunk;
        let at: number;
        while ((at = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, at).trim();
          pending = pending.slice(at + 1);
          if (!line) continue;
          let event: unknown;
          try {
            event = JSON.parse(line);
          } catch {
            return fail(new HttpError('protocol', 'a watch event is not JSON'));
          }
          onEvent(event);
        }
        if (pending.length > this.options.maxEventBytes)
          fail(
            new HttpError(
              'too_large',
              `a watch event is larger than ${this.options.maxEventBytes} bytes`,
            ),
          );
      });
    });
  }

  private async headers(): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.tokenFile) {
      const token = await readSmallFile(this.options.tokenFile, SMALL_FILE_BYTES).catch(
        (error: unknown) => {
          throw new HttpError(
            'unreachable',
            `the service account token cannot be read (${errorCode(error) ?? 'unreadable'})`,
          );
        },
      );
      headers['authorization'] = `Bearer ${token.trim()}`;
    }
    return headers;
  }

  private async get(
    path: string,
    signal: AbortSignal,
    timeoutMs: number,
    body: (
      res: IncomingMessage,
      fail: (error: HttpError) => void,
      touch: (ms: number) => void,
    ) => void,
  ): Promise<void> {
    const url = new URL(path, this.options.url);
    const tls = url.protocol === 'https:';
    const headers = await this.headers();
    const ca = tls && this.options.caFile ? await readCa(this.options.caFile) : undefined;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: HttpError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve();
      };
      const touch = (ms: number) => {
        clearTimeout(timer);
        timer = setTimeout(
          () => finish(new HttpError('timeout', `nothing came from the API server in ${ms} ms`)),
          ms,
        );
      };
      const onAbort = () => finish(new HttpError('aborted', 'cancelled'));
      const req = (tls ? httpsRequest : httpRequest)(url, {
        method: 'GET',
        headers,
        ...(ca ? { ca } : {}),
      });
      req.on('error', (error) =>
        finish(
          new HttpError('unreachable', `the API server failed (${errorCode(error) ?? 'EUNKNOWN'})`),
        ),
      );
      touch(timeoutMs);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('response', (res) => {
        res.on('error', () => finish(new HttpError('unreachable', 'connection reset mid-answer')));
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          return finish(
            new HttpError(
              'protocol',
              `the API server answered ${status}${STATUS_HINT[status] ?? ''}`,
            ),
          );
        }
        body(res, finish, touch);
        res.on('end', () => finish());
        res.on('aborted', () =>
          finish(new HttpError('unreachable', 'connection reset mid-answer')),
        );
      });
      req.end();
    });
  }
}

/** Why the API server says no, in words a person can act on. */
const STATUS_HINT: Readonly<Record<number, string>> = {
  401: ' (unauthorized: the service account token is missing or expired)',
  403: ' (forbidden: the ClusterRole must allow get, list and watch on pods)',
  410: ' (gone: the watch is too old)',
};

async function readCa(path: string): Promise<string> {
  return readSmallFile(path, SMALL_FILE_BYTES).catch((error: unknown) => {
    throw new HttpError(
      'tls',
      `the cluster CA cannot be read (${errorCode(error) ?? 'unreadable'})`,
    );
  });
}
