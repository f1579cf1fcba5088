/**
 * `npm run bench`: the agent with 8 simulated GPUs (the fake nvidia-smi replaying the H100
 * capture) beside Debian's prometheus-node-exporter, scraped the same way in the same run.
 *
 *   BENCH_WARMUP    seconds after start-up before anything is measured (default 10)
 *   BENCH_SECONDS   steady phase: one scrape every 15 s, like Prometheus (default 60; 600 for the RSS target)
 *   BENCH_SCRAPES   latency phase: back-to-back scrapes of each target, taking turns (default 1000)
 *
 * Prints a Markdown table; CPU is utime+stime from /proc, RSS is VmRSS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort, percentile, rssBytes, waitUntil } from './process-stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const STEADY_SECONDS = Number(process.env.BENCH_SECONDS ?? '60');
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? '10');
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? '1000');
const SCRAPE_INTERVAL_MS = 15_000;

interface Target {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
}

// Like Prometheus: a kept-alive connection, gzip asked for, the whole body read.
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

function scrape(url: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(
      url,
      { agent: keepAlive, headers: { 'Accept-Encoding': 'gzip' }, timeout: 10_000 },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
          else resolve(performance.now() - start);
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
  });
}

function waitUp(url: string, check: (body: string) => boolean): Promise<void> {
  return waitUntil(async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok && check(await res.text());
  }, url);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inferwatch-bench-'));
  const invocations = join(dir, 'invocations.log');
  writeFileSync(invocations, '');
  const agentPort = await freePort();
  const agent: Target = {
    name: 'inferwatch',
    url: `http://127.0.0.1:${agentPort}/metrics`,
    child: spawn(
      process.execPath,
      [join(ROOT, 'dist/agent/main.js'), 'run', '--listen', `127.0.0.1:${agentPort}`],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          PATH: `${join(ROOT, 'demo/fake/bin')}:/usr/bin:/bin`,
          FAKE_NVSMI_GPUS: '8',
          FAKE_NVSMI_APPS: join(
            ROOT,
            'test/fixtures/nvidia-smi/nvidia-smi_query-compute-apps_csv_h200_drv590.48.01_load.csv',
          ),
          FAKE_NVSMI_LOG: invocations,
        },
      },
    ),
  };
  const targets: Target[] = [agent];
  let nodeExporterVersion = 'not installed';
  try {
    nodeExporterVersion =
      execFileSync('prometheus-node-exporter', ['--version'], { encoding: 'utf8' }).split(
        '\n',
      )[0] ?? '';
    const nePort = await freePort();
    targets.push({
      name: 'node_exporter',
      url: `http://127.0.0.1:${nePort}/metrics`,
      child: spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nePort}`], {
        stdio: 'ignore',
      }),
    });
  } catch {
    console.error(
      'prometheus-node-exporter not found: measuring inferwatch alone (apt-get install prometheus-node-exporter)',
    );
  }
  try {
    await waitUp(agent.url, (body) => body.includes('inferwatch_gpu_devices 8'));
    for (const t of targets.slice(1)) await waitUp(t.url, () => true);

    await sleep(WARMUP_SECONDS * 1000);
    // Steady phase: what a node costs under Prometheus's ordinary 15 s scrape.
    const spawnsBefore = readFileSync(invocations, 'utf8')
      .split('\n')
      .filter((l) => l.includes('-lms')).length;
    const cpuStart = targets.map((t) => cpuSeconds(t.child.pid!));
    const t0 = performance.now();
    while (performance.now() - t0 < STEADY_SECONDS * 1000) {
      await Promise.all(targets.map((t) => scrape(t.url)));
      await sleep(Math.min(SCRAPE_INTERVAL_MS, STEADY_SECONDS * 1000 - (performance.now() - t0)));
    }
    const minutes = (performance.now() - t0) / 60_000;
    const steady = targets.map((t, i) => ({
      cpuPerMinute: (cpuSeconds(t.child.pid!) - (cpuStart[i] ?? 0)) / minutes,
      rss: rssBytes(t.child.pid!),
    }));
    const spawnsAfter = readFileSync(invocations, 'utf8')
      .split('\n')
      .filter((l) => l.includes('-lms')).length;

    // Latency phase: back-to-back scrapes, the targets taking turns so both see the same machine.
    const samples: number[][] = targets.map(() => []);
    for (let i = 0; i < 20; i++) for (const t of targets) await scrape(t.url);
    for (let i = 0; i < SCRAPES; i++) {
      for (const [j, t] of targets.entries()) samples[j]!.push(await scrape(t.url));
    }
    const latency = samples.map((list) => {
      const sorted = [...list].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    });
    const body = await (await fetch(agent.url)).text();
    const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;

    const rows = targets.map((t, i) => {
      const s = steady[i]!;
      const l = latency[i]!;
      return `| ${t.name} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} | ${(s.rss / 1048576).toFixed(1)} | ${s.cpuPerMinute.toFixed(3)} | ${((s.cpuPerMinute / 60) * 100).toFixed(2)} % |`;
    });
    const report = [
      `inferwatch bench: 8 simulated GPUs (1 s sampling), ${series} series; node ${process.version}; ${nodeExporterVersion}`,
      `after ${WARMUP_SECONDS} s of warm-up: a steady phase of ${Math.round(minutes * 60)} s with a scrape every 15 s, then ${SCRAPES} back-to-back scrapes of each target, taking turns`,
      '',
      '| target | /metrics p50 ms | /metrics p99 ms | RSS MiB (end of steady phase) | CPU s per minute | of one core |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      `nvidia-smi streams started during the steady phase: ${spawnsAfter - spawnsBefore} (1 GPU stream + 1 process stream at start: ${spawnsBefore})`,
    ].join('\n');
    console.log(report);
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(join(ROOT, '.bench', `report-${Date.now()}.md`), `${report}\n`);
  } finally {
    for (const t of targets) t.child.kill('SIGTERM');
  }
}

await main();
