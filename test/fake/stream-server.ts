import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One thing the server does, `at` milliseconds after the request arrived. */
export type Step =
  | { readonly at: number; readonly write: string }
  | { readonly at: number; readonly disconnect: true };

export interface Script {
  readonly status?: number;
  /** When the response headers go out (default: at once). */
  readonly headersAt?: number;
  readonly contentType?: string;
  readonly steps: readonly Step[];
  /** Whether the response ends after the last step (default true). */
  readonly end?: boolean;
}

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** performance.now() when the whole request had arrived. */
  readonly at: number;
}

/**
 * A runtime with scripted timing, in the test process: each POST route plays its script
 * (events at set times, keep-alives, stalls, a disconnect, a status), each GET route answers
 * fixed JSON or text. Reached over real HTTP, so the probe measures real streams.
 */
export class StreamServer {
  private readonly server: Server;
  private readonly scripts = new Map<string, Script>();
  private readonly fixed = new Map<string, { status: number; body: string }>();
  private readonly open = new Set<ServerResponse>();
  readonly received: Received[] = [];
  /** performance.now() of each scripted write, in order: the truth a measurement is held to. */
  readonly writes: { readonly at: number; readonly text: string }[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.answer(req, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  script(path: string, script: Script): this {
    this.scripts.set(path, script);
    return this;
  }

  json(path: string, body: unknown, status = 200): this {
    this.fixed.set(path, { status, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return this;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The bodies the probe POSTed, parsed. */
  posted(): Record<string, unknown>[] {
    return this.received
      .filter((r) => r.method === 'POST')
      .map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }

  private answer(req: IncomingMessage, body: string, res: ServerResponse): void {
    const at = performance.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    this.received.push({ method: req.method ?? 'GET', path, headers: req.headers, body, at });
    const fixed = this.fixed.get(path);
    if (req.method === 'GET' && fixed) {
      res.writeHead(fixed.status, { 'content-type': 'application/json' }).end(fixed.body);
      return;
    }
    const script = req.method === 'POST' ? this.scripts.get(path) : undefined;
    if (!script) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    const timers: NodeJS.Timeout[] = [];
    res.on('close', () => timers.forEach(clearTimeout));
    const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, Math.max(0, ms)));
    later(script.headersAt ?? 0, () => {
      res.writeHead(script.status ?? 200, {
        'content-type': script.contentType ?? 'text/event-stream',
        'cache-control': 'no-cache',
      });
      res.flushHeaders();
    });
    for (const step of script.steps) {
      later(step.at, () => {
        if ('disconnect' in step) res.socket?.destroy();
        else {
          res.write(step.write);
          this.writes.push({ at: performance.now(), text: step.write });
        }
      });
    }
    if (script.end !== false) {
      const last = Math.max(script.headersAt ?? 0, ...script.steps.map((s) => s.at));
      later(last + 1, () => res.end());
    }
  }
}

export const sse = (payload: unknown): string =>
  `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;

/** OpenAI chat chunks, as vLLM streams them. */
export const chat = {
  role: () =>
    sse({
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      usage: null,
    }),
  content: (text: string, finish: string | null = null) =>
    sse({
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { content: text }, finish_reason: finish }],
      usage: null,
    }),
  finish: (reason: string) =>
    sse({
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: {}, finish_reason: reason }],
      usage: null,
    }),
  usage: (prompt: number, completion: number) =>
    sse({
      object: 'chat.completion.chunk',
      choices: [],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
      },
    }),
  done: () => sse('[DONE]'),
};
