import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/core/logger.js';
import bcrypt from 'bcryptjs';
import { MetricsServer, type MetricsSource } from '../../agent/server/http.js';
import type { WebSecurity } from '../../agent/server/web-config.js';
import { ROOT } from '../helpers/fixtures.js';

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(
  source: Partial<MetricsSource>,
  maxRequests = 40,
  limits: {
    maxConnections?: number;
    headerTimeoutMs?: number;
    admissionGraceMs?: number;
    authFailureDelayMs?: number;
    security?: WebSecurity;
  } = {},
) {
  const server = new MetricsServer(
    {
      metrics: async () => Buffer.from('up 1\n'),
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      statuses: () => [{ name: 'gpu', status: { state: 'failing', detail: '<lost> & "gone"' } }],
      ...source,
    },
    { host: '127.0.0.1', port: 0, maxRequests, version: '9.9.9', ...limits },
    createLogger('error', { write: () => undefined }),
  );
  servers.push(server);
  return `http://127.0.0.1:${await server.listen()}`;
}

function raw(url: string, method: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const req = request(url, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('MetricsServer', () => {
  it('answers wrong credentials after a pause (a guessing loop costs a few requests a second), no credentials and right ones at once', async () => {
    const base = await serve({}, 40, {
      authFailureDelayMs: 300,
      security: {
        tls: undefined,
        users: new Map([['prometheus', bcrypt.hashSync('right', 4)]]),
        headers: {},
      },
    });
    const basic = (password: string) => ({
      authorization: `Basic ${Buffer.from(`prometheus:${password}`).toString('base64')}`,
    });
    expect((await raw(`${base}/metrics`, 'GET', basic('right'))).status).toBe(200);
    expect((await raw(`${base}/metrics`, 'GET')).status).toBe(401);
    for (let i = 0; i < 2; i++) {
      // The second time the wrong password is a cached verdict: still the pause.
      const t0 = performance.now();
      const wrong = await raw(`${base}/metrics`, 'GET', basic('guess'));
      expect(wrong.status).toBe(401);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    }
    // /healthz needs no credentials, and never waits.
    expect((await raw(`${base}/healthz`, 'GET', basic('guess'))).status).toBe(200);
  });

  it('serves gzip only when asked', async () => {
    const base = await serve({ metrics: async () => Buffer.from('x 1\n'.repeat(1000)) });
    const zipped = await raw(`${base}/metrics`, 'GET', { 'Accept-Encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe('x 1\n'.repeat(1000));
    const plain = await raw(`${base}/metrics`, 'GET');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe('x 1\n'.repeat(1000));
    expect(plain.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('concurrent /metrics requests share one scrape and its body; /healthz never waits behind them', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const base = await serve(
      {
        metrics: () => {
          calls++;
          return new Promise((resolve) => {
            release = () => resolve(Buffer.from('shared 1\n'.repeat(500)));
          });
        },
      },
      1,
    );
    const scrapes = Array.from({ length: 50 }, () =>
      raw(`${base}/metrics`, 'GET', { 'Accept-Encoding': 'gzip' }),
    );
    await new Promise((r) => setTimeout(r, 100));
    const health = await raw(`${base}/healthz`, 'GET');
    expect(health.status).toBe(200);
    release();
    const answers = await Promise.all(scrapes);
    expect(calls).toBe(1);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => gunzipSync(a.body).toString())).size).toBe(1);
  });

  it('HEAD has no body, other methods get 405, unknown paths 404', async () => {
    const base = await serve({});
    const head = await raw(`${base}/metrics`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect((await raw(`${base}/metrics`, 'POST')).status).toBe(405);
    expect((await raw(`${base}/nope`, 'GET')).status).toBe(404);
  });

  it('a failing render is a 500, and the server carries on', async () => {
    let fail = true;
    const base = await serve({
      metrics: async () => {
        if (fail) throw new Error('boom');
        return Buffer.from('ok 1\n');
      },
    });
    expect((await fetch(`${base}/metrics`)).status).toBe(500);
    fail = false;
    expect(await (await fetch(`${base}/metrics`)).text()).toBe('ok 1\n');
  });

  it('serves every runbook as a page with no credentials, lists them, and refuses the rest', async () => {
    const base = await serve({}, 40, {
      security: {
        tls: undefined,
        users: new Map([['prometheus', bcrypt.hashSync('right', 4)]]),
        headers: {},
      },
    });
    expect((await raw(`${base}/metrics`, 'GET')).status).toBe(401);
    const runbooks = readdirSync(join(ROOT, 'runbooks')).filter((f) => f !== 'README.md');
    expect(runbooks.length).toBeGreaterThan(20);
    for (const file of runbooks) {
      const page = await raw(`${base}/runbooks/${file}`, 'GET');
      expect(page.status, file).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      const html = page.body.toString();
      // The runbook's own text, its sections and its related links, which stay relative.
      expect(html, file).toContain(`<h1>${file.replace(/\.md$/, '')}</h1>`);
      expect(html, file).toContain('<h2>Diagnosis</h2>');
      expect(html, file).toContain('<pre><code');
      if (file !== 'Watchdog.md') expect(html, file).toMatch(/<a href="LLMNode[A-Za-z]+\.md">/);
    }
    const index = await raw(`${base}/runbooks/`, 'GET');
    expect(index.status).toBe(200);
    for (const file of runbooks) expect(index.body.toString()).toContain(`<a href="${file}">`);
    expect(index.body.toString()).toContain('Severity: critical (pages). Component: gpu.');
    const bare = await raw(`${base}/runbooks`, 'GET');
    expect([bare.status, bare.headers.location]).toEqual([301, 'runbooks/']);
    for (const path of [
      '/runbooks/Nope.md',
      '/runbooks/LLMNodeGPULost',
      '/runbooks/%2E%2E%2Fmetrics',
    ])
      expect((await raw(`${base}${path}`, 'GET')).status, path).toBe(404);
    const head = await raw(`${base}/runbooks/LLMNodeGPULost.md`, 'HEAD');
    expect([head.status, head.body.length]).toEqual([200, 0]);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(1000);
  });

  it('the status page escapes what sources say, and asks for nothing beyond itself', async () => {
    const base = await serve({});
    const page = await fetch(`${base}/`, { signal: AbortSignal.timeout(5000) });
    const html = await page.text();
    expect(html).toContain('<small>9.9.9</small>');
    expect(html).toContain('&#60;lost&#62; &#38; &#34;gone&#34;');
    expect(html).not.toContain('<lost>');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    // No script, and nothing fetched from anywhere: every src and href is the page's own.
    expect(html).not.toMatch(/<script|src="http|href="http|@import/);
  });

  it('/probe hands the target and module to the cache and serves its answer; no target is 400', async () => {
    const asked: [string, string][] = [];
    const base = await serve({
      probe: (target, module) => {
        asked.push([target, module]);
        return { status: 200, body: 'probe_success 1\n' };
      },
    });
    const ok = await raw(`${base}/probe?target=http%3A%2F%2F127.0.0.1%3A8000&module=canary`, 'GET');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(ok.body.toString()).toBe('probe_success 1\n');
    await raw(`${base}/probe?target=vllm-a`, 'GET');
    expect(asked).toEqual([
      ['http://127.0.0.1:8000', 'canary'],
      ['vllm-a', 'latency'],
    ]);
    expect((await raw(`${base}/probe`, 'GET')).status).toBe(400);
    const off = await serve({});
    expect((await raw(`${off}/probe?target=a`, 'GET')).status).toBe(404);
  });

  it('cuts off a client that trickles its headers (slowloris) within the header timeout', async () => {
    const base = await serve({}, 40, { headerTimeoutMs: 500 });
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      // One more header byte now and then, never the blank line that ends them.
      const drip = setInterval(() => socket.writable && socket.write('X'), 100);
      socket.on('close', () => clearInterval(drip));
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('refuses oversized headers and never echoes the request', async () => {
    const base = await serve({});
    const big = await raw(`${base}/metrics`, 'GET', { 'x-filler': 'a'.repeat(10_000) });
    expect(big.status).toBe(431);
    const notFound = await raw(`${base}/%3Cscript%3Ealert(1)%3C/script%3E`, 'GET');
    expect(notFound.status).toBe(404);
    expect(notFound.body.toString()).not.toMatch(/script|alert/);
  });

  it('at the connection cap, an idle or header-trickling connection makes room for a new one; busy ones are never closed for it, and let in up to 8 times the cap', async () => {
    let release: () => void = () => undefined;
    const base = await serve(
      {
        metrics: () =>
          new Promise((resolve) => {
            release = () => resolve(Buffer.from('up 1\n'));
          }),
      },
      40,
      { maxConnections: 2, admissionGraceMs: 100 },
    );
    const port = Number(new URL(base).port);
    const open = (): Promise<Socket> =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
      });
    const closedWithin = (socket: Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        if (socket.destroyed) return resolve(true);
        socket.once('close', () => resolve(true));
        setTimeout(() => resolve(false), ms);
      });
    // Two connections that sent half their headers (slowloris) fill the cap.
    const slow = [await open(), await open()];
    for (const s of slow) s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    // Past their grace (100 ms here), they may be closed to make room.
    await new Promise((r) => setTimeout(r, 150));
    const health = await raw(`${base}/healthz`, 'GET');
    expect(health.status).toBe(200);
    expect(await closedWithin(slow[0]!, 1000)).toBe(true);
    // Connections each waiting on a scrape are busy: none is closed for a newcomer, and a
    // health check still gets through while they wait.
    const busy: Socket[] = [];
    for (let i = 0; i < 15; i++) {
      const s = await open();
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      busy.push(s);
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect((await raw(`${base}/healthz`, 'GET')).status).toBe(200);
    for (const s of busy) expect(s.destroyed).toBe(false);
    // Sixteen open (8 times the cap of 2), all busy: the next is refused.
    const last = await open();
    last.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const refused = await open();
    expect(await closedWithin(refused, 2000)).toBe(true);
    release();
    for (const s of [...slow, ...busy, last]) s.destroy();
  });
});
