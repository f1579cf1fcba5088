import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the simulated runtime does with the next requests. */
export type Behaviour =
  | { readonly mode: 'serve' }
  | { readonly mode: 'hang' }
  | { readonly mode: 'slow'; readonly delayMs: number }
  | { readonly mode: 'reset' }
  | { readonly mode: 'status'; readonly status: number }
  | { readonly mode: 'garbage' }
  | { readonly mode: 'huge'; readonly bytes: number };

export interface Route {
  readonly contentType: string;
  body: string;
}

/**
 * A runtime in test/: serves fixture text per path, and on command hangs, answers 500, sends
 * garbage or a huge body, or serves other text (counters reset, V0 names switched to V1).
 * Runs inside the test process; the agent under test reaches it over real HTTP.
 */
export class RuntimeServer {
  private readonly server: Server;
  private readonly routes = new Map<string, Route>();
  private behaviour: Behaviour = { mode: 'serve' };
  private readonly hung = new Set<ServerResponse>();
  readonly requests: string[] = [];
  /** The headers of the last request, to check what the agent sends. */
  lastHeaders: Readonly<Record<string, string | string[] | undefined>> = {};

  constructor(routes: Record<string, string>) {
    for (const [path, body] of Object.entries(routes)) this.route(path, body);
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      this.requests.push(path);
      this.lastHeaders = req.headers;
      const b = this.behaviour;
      if (b.mode === 'hang' && path !== '/') {
        this.hung.add(res);
        res.on('close', () => this.hung.delete(res));
        return;
      }
      if (b.mode === 'reset' && path !== '/') return void req.socket.destroy();
      if (b.mode === 'status' && path !== '/') return void res.writeHead(b.status).end('error');
      if (b.mode === 'garbage' && path !== '/') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end(Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x0a, 0x3c, 0x3e, 0x0a]));
      }
      if (b.mode === 'huge' && path !== '/') return this.huge(res, b.bytes);
      const route = this.routes.get(path);
      const answer = () => {
        if (!route)
          return void res
            .writeHead(404, { 'content-type': 'text/plain' })
            .end('404 page not found');
        res.writeHead(200, { 'content-type': route.contentType }).end(route.body);
      };
      if (b.mode === 'slow' && path !== '/') {
        const timer = setTimeout(answer, b.delayMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      answer();
    });
  }

  route(path: string, body: string): void {
    const trimmed = body.trimStart();
    const json = trimmed.startsWith('{') || trimmed.startsWith('[');
    this.routes.set(path, {
      contentType: json ? 'application/json' : 'text/plain; version=0.0.4',
      body,
    });
  }

  set(behaviour: Behaviour): void {
    this.behaviour = behaviour;
    if (behaviour.mode !== 'hang') for (const res of this.hung) res.destroy();
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private huge(res: ServerResponse, bytes: number): void {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const line = Buffer.from(`filler_metric{pad="${'x'.repeat(200)}"} 1\n`);
    let sent = 0;
    const write = (): void => {
      while (sent < bytes) {
        sent += line.length;
        if (!res.write(line)) return void res.once('drain', write);
      }
      res.end();
    };
    res.on('error', () => undefined);
    write();
  }
}
