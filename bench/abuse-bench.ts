/**
 * `npm run bench` (last part): the agent and Debian's prometheus-node-exporter side by side in
 * what users' machines and other clients do to them. Each phase is run on one target at a
 * time, the other idle, and measures what a Prometheus would see: a scrape over a new
 * connection, its latency and whether it was answered.
 *
 *   hung sources     the agent's dcgm-exporter and runtime take the connection and never answer
 *   slowloris        500 connections trickling their headers
 *   scrapers         500 clients scraping back to back over keep-alive connections
 *   wrong passwords  60 clients sending wrong basic-auth passwords (bcrypt cost 10) to a
 *                    target with a web config, Prometheus having logged in before
 *   5,000 models     a runtime reporting 5,000 models, 12 series each (the agent alone):
 *                    scrape latency, series exported and RSS
 *
 *   BENCH_ABUSE_SECONDS   how long each abuse lasts (default 10)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { manyModelsExposition } from '../test/fake/many-models.js';
import { RuntimeServer } from '../test/fake/runtime-server.js';
import { slowloris } from '../test/fake/slowloris.js';
import { cpuSeconds, freePort, percentile, rssBytes, waitUntil } from './process-stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const ABUSE_SECONDS = Number(process.env.BENCH_ABUSE_SECONDS ?? '10');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
}

const rssMiB = (pid: number) => rssBytes(pid) / 1048576;

/** One request; its latency in ms, or undefined when it was not answered 200 within 10 s. */
function timed(
  port: number,
  path: string,
  options: { via?: Agent | false; headers?: Record<string, string> } = {},
): Promise<number | undefined> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: options.via ?? false,
        headers: { 'accept-encoding': 'gzip', ...options.headers },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve(res.statusCode === 200 ? performance.now() - start : undefined),
        );
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function summary(samples: (number | undefined)[]): string {
  const answered = samples.filter((s): s is number => s !== undefined).sort((a, b) => a - b);
  const at = (p: number) => (answered.length ? percentile(answered, p) : undefined);
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} ms`);
  return `${answered.length}/${samples.length} | ${ms(at(50))} | ${ms(at(99))} | ${ms(answered.at(-1))}`;
}

/** Legitimate scrapes (a new connection each, as after a Prometheus restart) every 200 ms. */
async function legit(
  port: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<(number | undefined)[]> {
  const out: (number | undefined)[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    out.push(await timed(port, '/metrics', { headers }));
    await sleep(200);
  }
  return out;
}

/** `count` loops of `request` until stopped. */
function flood(count: number, once: (i: number) => Promise<unknown>): () => Promise<void> {
  let running = true;
  const loops = Array.from({ length: count }, async (_, i) => {
    while (running) await once(i);
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

/** A server that takes every connection and never answers: a wedged exporter or runtime. */
async function hungServer(): Promise<RuntimeServer> {
  const server = new RuntimeServer({});
  server.set({ mode: 'hang' });
  await server.listen();
  return server;
}

async function startAgent(
  dir: string,
  config: string,
  headers: Record<string, string> = {},
): Promise<Target> {
  const name = 'inferwatch';
  const port = await freePort();
  const file = join(dir, `${name}-${port}.yaml`);
  writeFileSync(file, config);
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist/agent/main.js'), 'run', '--config', file, '--listen', `127.0.0.1:${port}`],
    {
      stdio: ['ignore', 'ignore', process.env.BENCH_AGENT_LOG ? 'inherit' : 'ignore'],
      env: { PATH: `${join(ROOT, 'demo/fake/bin')}:/usr/bin:/bin`, FAKE_NVSMI_GPUS: '8' },
    },
  );
  await waitUp(port, headers).catch((error: unknown) => {
    child.kill('SIGTERM');
    throw error;
  });
  return { name, child, port };
}

async function startNodeExporter(webConfig?: string): Promise<Target | undefined> {
  try {
    execFileSync('prometheus-node-exporter', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const port = await freePort();
  const child = spawn(
    'prometheus-node-exporter',
    [
      `--web.listen-address=127.0.0.1:${port}`,
      ...(webConfig ? [`--web.config.file=${webConfig}`] : []),
    ],
    { stdio: 'ignore' },
  );
  await waitUp(port, webConfig ? basic('right') : {}).catch((error: unknown) => {
    child.kill('SIGTERM');
    throw error;
  });
  return { name: 'node_exporter', child, port };
}

function waitUp(port: number, headers: Record<string, string> = {}): Promise<void> {
  return waitUntil(
    async () => (await timed(port, '/metrics', { headers })) !== undefined,
    `port ${port}`,
  );
}

const basic = (password: string) => ({
  authorization: `Basic ${Buffer.from(`prometheus:${password}`).toString('base64')}`,
});

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inferwatch-abuse-'));
  const rows: string[] = [];
  const row = (phase: string, target: Target, samples: (number | undefined)[], extra = '') =>
    rows.push(`| ${phase} | ${target.name} | ${summary(samples)} | ${extra} |`);
  const hungDcgm = await hungServer();
  const hungRuntime = await hungServer();
  const base = `collectors:\n  dcgm: { url: "${hungDcgm.url}/metrics" }\n  runtimes:\n    discovery: { enabled: false }\n    targets: [{ kind: vllm, url: "${hungRuntime.url}", name: wedged }]\nprobe: { enabled: false }\n`;
  const agent = await startAgent(dir, base);
  const nodeExporter = await startNodeExporter();
  const targets = [agent, ...(nodeExporter ? [nodeExporter] : [])];
  const cleanup: (() => void)[] = [() => targets.forEach((t) => t.child.kill('SIGTERM'))];
  try {
    await sleep(5000);
    for (const t of targets)
      row('hung dcgm-exporter and runtime', t, await legit(t.port, ABUSE_SECONDS));

    for (const t of targets) {
      const sockets = await slowloris(t.port, 500);
      await sleep(1500);
      row('500 slowloris connections', t, await legit(t.port, ABUSE_SECONDS));
      if (t === agent) {
        const health: (number | undefined)[] = [];
        for (let i = 0; i < 20; i++) health.push(await timed(t.port, '/healthz'));
        rows.push(`| 500 slowloris connections, /healthz | ${t.name} | ${summary(health)} | |`);
      }
      for (const s of sockets) s.destroy();
      await sleep(1000);
    }

    for (const t of targets) {
      const pool = new Agent({ keepAlive: true, maxSockets: 500 });
      let served = 0;
      const cpu = cpuSeconds(t.child.pid!);
      const stop = flood(500, async () => {
        if ((await timed(t.port, '/metrics', { via: pool })) !== undefined) served++;
      });
      await sleep(500);
      const samples = await legit(t.port, ABUSE_SECONDS);
      const used = cpuSeconds(t.child.pid!) - cpu;
      await stop();
      pool.destroy();
      row(
        '500 keep-alive scrapers',
        t,
        samples,
        `${served} of theirs served; ${used.toFixed(1)} s CPU`,
      );
      await sleep(1000);
    }

    for (const t of targets) t.child.kill('SIGTERM');
    targets.length = 0;
    const web = join(dir, 'web.yml');
    writeFileSync(web, `basic_auth_users:\n  prometheus: "${bcrypt.hashSync('right', 10)}"\n`);
    const authed = [
      await startAgent(dir, `${base}web: { config_file: ${web} }\n`, basic('right')),
      ...[await startNodeExporter(web)].filter((t): t is Target => t !== undefined),
    ];
    targets.push(...authed);
    await sleep(3000);
    for (const t of authed) {
      await timed(t.port, '/metrics', { headers: basic('right') });
      const quiet = await legit(t.port, 3, basic('right'));
      row('basic auth, no abuse', t, quiet);
      let n = 0;
      const cpu = cpuSeconds(t.child.pid!);
      const stop = flood(60, () => timed(t.port, '/metrics', { headers: basic(`guess-${n++}`) }));
      await sleep(500);
      const samples = await legit(t.port, ABUSE_SECONDS, basic('right'));
      const used = cpuSeconds(t.child.pid!) - cpu;
      await stop();
      row(
        '60 clients with wrong passwords',
        t,
        samples,
        `${n} tried; ${(used / (ABUSE_SECONDS + 0.5)).toFixed(2)} cores`,
      );
    }

    const wild = new RuntimeServer({ '/metrics': manyModelsExposition(5000) });
    await wild.listen();
    cleanup.push(() => void wild.close());
    // The agent reads it at every scrape, as Prometheus scrapes every 15 s, for a minute.
    const many = await startAgent(
      dir,
      `collectors:\n  nvidia_smi: { enabled: false }\n  runtimes:\n    discovery: { enabled: false }\n    targets: [{ kind: vllm, url: "${wild.url}", name: wild }]\nprobe: { enabled: false }\n`,
    );
    targets.push(many);
    await sleep(2000);
    const scrapes: (number | undefined)[] = [];
    for (let i = 0; i < 20; i++) {
      scrapes.push(await timed(many.port, '/metrics'));
      await sleep(3000);
    }
    const text = await (
      await fetch(`http://127.0.0.1:${many.port}/metrics`, { signal: AbortSignal.timeout(10_000) })
    ).text();
    const series = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
    row(
      'a runtime reporting 5,000 models (60,000 series), scraped every 3 s for a minute',
      many,
      scrapes,
      `${series} series exported; RSS ${rssMiB(many.child.pid!).toFixed(1)} MiB`,
    );
  } finally {
    for (const c of cleanup) c();
    await Promise.all([hungDcgm.close(), hungRuntime.close()]);
  }
  const report = [
    `inferwatch abuse bench: node ${process.version}; each abuse ${ABUSE_SECONDS} s; a legitimate scrape over a new connection every 200 ms`,
    '',
    '| phase | target | answered | p50 | p99 | max | |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  console.log(report);
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  writeFileSync(join(ROOT, '.bench', `abuse-${Date.now()}.md`), `${report}\n`);
}

await main();
