import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { slowloris } from '../fake/slowloris.js';
import { agentsKilledAfterEach, tempDir, type AgentProcess } from '../helpers/agent-process.js';

/**
 * The server under abuse from others: liveness checks and a Prometheus scrape must still be
 * answered. Each case holds the abuse for a few seconds; every request has a 5 s deadline.
 */
const agent = agentsKilledAfterEach();
const sockets: Socket[] = [];
const agents: Agent[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const a of agents.splice(0)) a.destroy();
});

function get(
  port: number,
  path: string,
  via: Agent | false = false,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, agent: via, timeout: 5000, headers };
    const req = request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Clients scraping /metrics back to back over keep-alive connections until stopped. */
function scrapers(port: number, count: number): { stop: () => Promise<number> } {
  const pool = new Agent({ keepAlive: true, maxSockets: count });
  agents.push(pool);
  let running = true;
  let answered = 0;
  const loops = Array.from({ length: count }, async () => {
    while (running) {
      try {
        const r = await get(port, '/metrics', pool);
        if (r.status === 200) answered++;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return answered;
    },
  };
}

/** What Prometheus and a liveness probe need: each answered, while the abuse goes on. */
async function stillAnswered(a: AgentProcess): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const health = await get(a.port, '/healthz');
    expect(health.status, `healthz ${i}`).toBe(200);
  }
  for (let i = 0; i < 3; i++) {
    const scrape = await get(a.port, '/metrics');
    expect(scrape.status, `scrape ${i}`).toBe(200);
    expect(scrape.body).toContain('inferwatch_build_info');
  }
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** No GPU source: the server is what is under test. */
const CONFIG = `
probe: { enabled: false }
collectors:
  nvidia_smi: { enabled: false }
  dcgm: { enabled: false }
  runtimes: { discovery: { enabled: false } }
`;

describe('under abuse, health and Prometheus are still answered', () => {
  it('500 slowloris connections (the connection cap is 128)', async () => {
    const a = await agent({ config: CONFIG, noNvidiaSmi: true });
    sockets.push(...(await slowloris(a.port, 500)));
    // Past the second a new connection is spared, and while they trickle on.
    await new Promise((r) => setTimeout(r, 1500));
    await stillAnswered(a);
    // They were made room of, not served: most were closed by the newcomers.
    expect(sockets.filter((s) => s.destroyed).length).toBeGreaterThan(0);
  }, 60_000);

  it('60 clients sending wrong passwords, each a new one, while Prometheus scrapes with the right one', async () => {
    const dir = tempDir();
    // Cost 10, as `htpasswd -nBC 10` makes it: about 60 ms of bcrypt a check.
    writeFileSync(
      join(dir, 'web.yml'),
      `basic_auth_users:\n  prometheus: "${bcrypt.hashSync('right', 10)}"\n`,
    );
    const a = await agent({
      config: `${CONFIG}web: { config_file: ${join(dir, 'web.yml')} }\n`,
      noNvidiaSmi: true,
    });
    // Prometheus logged in before the flood, as a running one has.
    expect((await get(a.port, '/metrics', false, basic('prometheus', 'right'))).status).toBe(200);
    let running = true;
    let refused = 0;
    let n = 0;
    const attackers = Array.from({ length: 60 }, async (_, i) => {
      while (running) {
        const r = await get(
          a.port,
          '/metrics',
          false,
          basic('prometheus', `guess-${i}-${n++}`),
        ).catch(() => ({ status: 0, body: '' }));
        if (r.status === 401 || r.status === 429) refused++;
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 5; i++) {
      expect((await get(a.port, '/healthz')).status).toBe(200);
      const scrape = await get(a.port, '/metrics', false, basic('prometheus', 'right'));
      expect(scrape.status, `scrape ${i}`).toBe(200);
      expect(scrape.body).toContain('inferwatch_build_info');
    }
    running = false;
    await Promise.all(attackers);
    // Every attacker was answered (401 or 429, after the pause that slows their loop).
    expect(refused).toBeGreaterThanOrEqual(60);
  }, 60_000);

  it.each([100, 500])(
    '%i concurrent keep-alive scrapers',
    async (count) => {
      const a = await agent({ config: CONFIG, noNvidiaSmi: true });
      const load = scrapers(a.port, count);
      await new Promise((r) => setTimeout(r, 500));
      await stillAnswered(a);
      const answered = await load.stop();
      // They were served too, sharing scrapes: not turned away wholesale.
      expect(answered).toBeGreaterThan(count);
    },
    60_000,
  );
});
