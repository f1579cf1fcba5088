import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { INCIDENTS, isIncident } from './sim/incidents.js';
import type { SimulatedNode } from './sim/node.js';

/**
 * The demo's control interface, on loopback: GET / lists the incidents and those injected,
 * POST /incidents/NAME?gpu=N&target=T injects one, DELETE /incidents heals the node.
 * `npm run demo -- inject` is its client.
 */
export class ControlServer {
  private readonly server: Server;

  /** `stack`: whether a Prometheus evaluates the rules, so a client can say where alerts show. */
  constructor(
    private readonly node: SimulatedNode,
    private readonly stack = false,
  ) {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://control');
      const reply = (status: number, body: unknown) =>
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end(`${JSON.stringify(body, null, 2)}\n`);
      req.resume();
      if (req.method === 'GET' && url.pathname === '/')
        return reply(200, {
          node: node.name,
          gpus: node.gpus,
          runtimes: [...node.runtimes.keys()],
          incidents: INCIDENTS,
          active: node.active(),
        });
      if (req.method === 'DELETE' && url.pathname === '/incidents') {
        const cleared = node.active();
        node.clear();
        return reply(200, { cleared, stack: this.stack });
      }
      const inject = /^\/incidents\/([a-z-]+)$/.exec(url.pathname);
      if (req.method === 'POST' && inject) {
        const name = inject[1] ?? '';
        if (!isIncident(name))
          return reply(404, { error: `no incident '${name}'`, incidents: Object.keys(INCIDENTS) });
        const gpu = url.searchParams.get('gpu');
        const target = url.searchParams.get('target');
        try {
          const injection = node.inject(name, {
            ...(gpu !== null && { gpu: Number(gpu) }),
            ...(target !== null && { target }),
          });
          return reply(200, { injected: injection, expect: INCIDENTS[name], stack: this.stack });
        } catch (error) {
          return reply(400, { error: (error as Error).message });
        }
      }
      reply(404, { error: 'GET /, POST /incidents/NAME, DELETE /incidents' });
    });
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
