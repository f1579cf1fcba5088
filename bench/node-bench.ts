/**
 * `npm run bench`, the node: the agent on a realistic GPU node (8 simulated GPUs behind the fake
 * nvidia-smi replaying the H100 capture, a simulated dcgm-exporter, three simulated runtimes
 * under load, the probe on) beside Debian's prometheus-node-exporter, measured the same way in
 * the same run, one target at a time where they would compete for the machine:
 *
 * 1. start-up: spawn to the first complete /metrics, with no GPU tool on PATH (5 starts);
 * 2. steady, 15 s scrapes (Prometheus's default): CPU per minute;
 * 3. steady, one scrape a second: RSS at the end;
 * 4. latency: back-to-back scrapes on a kept-alive connection, the targets taking turns, with and
 *    without gzip;
 * 5. load: 500 concurrent scrapers, back to back, for a minute: RSS after.
 *
 *   BENCH_WARMUP          seconds after start-up before anything is measured (default 10)
 *   BENCH_SECONDS         each steady phase (default 60)
 *   BENCH_SCRAPES         back-to-back scrapes of each target, per encoding (default 1000)
 *   BENCH_LOAD_SECONDS    the load phase (default 60)
 *   BENCH_SOAK_MINUTES    a soak instead: one scrape a second, RSS each minute, its slope after the
 *                         first 10 minutes by least squares (60 for the hour the docs quote)
 *   BENCH_AGENT_NODE_ARGS extra Node.js flags for the agent (say --cpu-prof)
 *
 * Prints a Markdown table and writes it to .bench/; CPU is utime+stime from /proc, RSS is VmRSS.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { ROOT, SimulatedNode } from '../demo/sim/node.js';
import { cpuSeconds, freePort, percentile, rssBytes, waitUntil } from './process-stats.js';

const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? '10');
const STEADY_SECONDS = Number(process.env.BENCH_SECONDS ?? '60');
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? '1000');
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? '60');
const SOAK_MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? '0');
const AGENT_NODE_ARGS = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
const LOAD_SCRAPERS = 500;
const STARTS = 5;
const MiB = 1048576;

interface Loaded {
  readonly served: number;
  readonly refused: number;
  readonly rss: number;
}

interface Target {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
}

type Encoding = 'gzip' | 'identity';

/** Like Prometheus: a kept-alive connection, gzip asked for (or not), the whole body read. */
function scraper(maxSockets = 1) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return (url: string, encoding: Encoding = 'gzip'): Promise<number> => {
    const start = performance.now();
    return new Promise((resolve, reject) => {
      const req = get(
        url,
        { agent, headers: { 'Accept-Encoding': encoding }, timeout: 30_000 },
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
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A body read once, bounded in time like every other request of the bench. */
async function bodyOf(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.text();
}

/** What the simulated node's process tells the bench: the agent's config and environment. */
interface SimulatedNodeReady {
  readonly dir: string;
  readonly config: string;
  readonly env: Record<string, string>;
}

/**
 * The simulated node runs in a process of its own (this file, with --simulated-node), so that
 * neither its work nor the scraping client's delays the other's.
 */
async function simulatedNodeProcess(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inferwatch-bench-'));
  const node = await SimulatedNode.start({
    name: 'bench',
    dir,
    gpus: 8,
    runtimes: [
      { name: 'vllm-a', kind: 'vllm', model: 'meta-llama/Llama-3.1-8B-Instruct' },
      { name: 'vllm-b', kind: 'vllm', model: 'Qwen/Qwen3-8B' },
      { name: 'sglang', kind: 'sglang', model: 'Qwen/Qwen2.5-7B-Instruct', maxConcurrency: 48 },
    ],
  });
  const ready: SimulatedNodeReady = { dir, config: agentConfig(node), env: node.agentEnv() };
  process.send?.(ready);
  process.on('disconnect', () => void node.close().then(() => process.exit(0)));
}

function startSimulatedNode(): Promise<{ child: ChildProcess; ready: SimulatedNodeReady }> {
  const child = fork(fileURLToPath(import.meta.url), ['--simulated-node'], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (ready) => resolve({ child, ready: ready as SimulatedNodeReady }));
    child.once('exit', (code) => reject(new Error(`the simulated node exited (${code})`)));
  });
}

/** The agent's config for the node: the simulation's sources at the agent's default timings. */
function agentConfig(node: SimulatedNode): string {
  type Block = Record<string, unknown>;
  const config = parse(node.agentConfig()) as Block & { collectors: Record<string, Block> };
  const { collectors } = config;
  delete collectors.timeout_ms;
  collectors.nvidia_smi = { command: collectors.nvidia_smi!.command };
  delete collectors.runtimes!.refresh_interval_s;
  delete collectors.runtime_logs!.poll_interval_ms;
  config.probe = {};
  config.evaluation = { schedule: '' };
  config.log_level = 'warn';
  return stringify(config);
}

function startAgent(
  node: SimulatedNodeReady,
  configPath: string,
  port: number,
  env: Record<string, string>,
): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...AGENT_NODE_ARGS,
      join(ROOT, 'dist/agent/main.js'),
      'run',
      '--config',
      configPath,
      '--listen',
      `127.0.0.1:${port}`,
    ],
    // The agent writes nothing to stdout; V8's --trace-gc does.
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...node.env, ...env } },
  );
}

/** Spawn to the first /metrics answered in full, with no GPU tool on PATH, in ms (median of 5). */
async function startUp(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const start = performance.now();
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist/agent/main.js'), 'run', '--listen', `127.0.0.1:${port}`],
      { stdio: 'ignore', env: { PATH: '/nonexistent' } },
    );
    try {
      const deadline = start + 30_000;
      for (;;) {
        const body = await bodyOf(url).catch(() => '');
        if (body.includes('inferwatch_build_info')) break;
        if (performance.now() > deadline) throw new Error('the agent did not start in 30 s');
        await sleep(5);
      }
      times.push(performance.now() - start);
    } finally {
      child.kill('SIGTERM');
    }
  }
  return percentile(
    [...times].sort((a, b) => a - b),
    50,
  );
}

async function steadyCpu(targets: readonly Target[]): Promise<number[]> {
  const scrape = scraper();
  const before = targets.map((t) => cpuSeconds(t.child.pid!));
  const t0 = performance.now();
  while (performance.now() - t0 < STEADY_SECONDS * 1000) {
    await Promise.all(targets.map((t) => scrape(t.url)));
    await sleep(Math.min(15_000, STEADY_SECONDS * 1000 - (performance.now() - t0)));
  }
  const minutes = (performance.now() - t0) / 60_000;
  return targets.map((t, i) => (cpuSeconds(t.child.pid!) - before[i]!) / minutes);
}

async function everySecond(targets: readonly Target[], seconds: number, each?: () => void) {
  const scrape = scraper();
  const t0 = performance.now();
  for (let i = 1; performance.now() - t0 < seconds * 1000; i++) {
    await Promise.all(targets.map((t) => scrape(t.url)));
    each?.();
    await sleep(Math.max(0, t0 + i * 1000 - performance.now()));
  }
}

async function latency(targets: readonly Target[], encoding: Encoding) {
  const scrape = scraper();
  const samples: number[][] = targets.map(() => []);
  for (let i = 0; i < 20; i++) for (const t of targets) await scrape(t.url, encoding);
  for (let i = 0; i < SCRAPES; i++)
    for (const [j, t] of targets.entries()) samples[j]!.push(await scrape(t.url, encoding));
  return samples.map((list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  });
}

/** 500 scrapers back to back at one target for LOAD_SECONDS: scrapes served and refused, RSS after. */
async function load(target: Target): Promise<Loaded> {
  const scrape = scraper(LOAD_SCRAPERS);
  const until = performance.now() + LOAD_SECONDS * 1000;
  let served = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: LOAD_SCRAPERS }, async () => {
      while (performance.now() < until) {
        // node_exporter answers 503 past --web.max-requests (40): counted, as Prometheus would.
        if (
          await scrape(target.url).then(
            () => true,
            () => false,
          )
        )
          served++;
        else refused++;
      }
    }),
  );
  return { served, refused, rss: rssBytes(target.child.pid!) };
}

/** Least-squares slope of (minute, bytes), in MiB an hour. */
function slopePerHour(points: readonly [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return ((sxy / sxx) * 60) / MiB;
}

async function soak(targets: readonly Target[]): Promise<string[]> {
  const rss: [number, number][][] = targets.map(() => []);
  const t0 = performance.now();
  let minute = 0;
  await everySecond(targets, SOAK_MINUTES * 60, () => {
    const now = Math.floor((performance.now() - t0) / 60_000);
    if (now === minute) return;
    minute = now;
    for (const [i, t] of targets.entries()) rss[i]!.push([now, rssBytes(t.child.pid!)]);
  });
  return targets.map((t, i) => {
    const points = rss[i]!;
    const late = points.filter(([m]) => m >= 10);
    const slope = late.length >= 2 ? `${slopePerHour(late).toFixed(2)} MiB/h` : 'too short';
    const mib = points.map(([, b]) => (b / MiB).toFixed(1));
    return `| ${t.name} | ${mib[0] ?? '-'} | ${mib.at(-1) ?? '-'} | ${slope} |`;
  });
}

function nodeExporter(port: number): { version: string; child: ChildProcess } | undefined {
  try {
    const version =
      execFileSync('prometheus-node-exporter', ['--version'], { encoding: 'utf8' }).split(
        '\n',
      )[0] ?? '';
    const child = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`], {
      stdio: 'ignore',
    });
    return { version, child };
  } catch {
    console.error(
      'prometheus-node-exporter not found: measuring inferwatch alone (apt-get install prometheus-node-exporter)',
    );
    return undefined;
  }
}

async function main(): Promise<void> {
  const { child: simulated, ready: node } = await startSimulatedNode();
  const configPath = join(node.dir, 'agent.yaml');
  writeFileSync(configPath, node.config);
  const startUpMs = await startUp();

  const agentPort = await freePort();
  const agent: Target = {
    name: 'inferwatch',
    url: `http://127.0.0.1:${agentPort}/metrics`,
    child: startAgent(node, configPath, agentPort, {
      PATH: `${join(ROOT, 'demo/fake/bin')}:/usr/bin:/bin`,
    }),
  };
  const targets: Target[] = [agent];
  const nePort = await freePort();
  const ne = nodeExporter(nePort);
  if (ne)
    targets.push({
      name: 'node_exporter',
      url: `http://127.0.0.1:${nePort}/metrics`,
      child: ne.child,
    });
  try {
    await waitUntil(
      async () => {
        const body = await bodyOf(agent.url);
        return (
          body.includes('inferwatch_gpu_devices 8') &&
          (body.match(/^inferwatch_llm_runtime_up\{.*\} 1$/gm) ?? []).length === 3 &&
          body.includes('inferwatch_probe_success{')
        );
      },
      'the agent with 8 GPUs, 3 runtimes and a probe run',
      120_000,
    );
    for (const t of targets.slice(1))
      await waitUntil(async () => (await bodyOf(t.url)).length > 0, t.name);
    await sleep(WARMUP_SECONDS * 1000);
    const body = await bodyOf(agent.url);
    const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const header = `inferwatch bench: 8 simulated GPUs (1 s sampling), DCGM, 3 runtimes, the probe; ${series} series, ${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB; node ${process.version}; ${ne?.version ?? 'no node_exporter'}`;

    if (SOAK_MINUTES > 0) {
      const rows = await soak(targets);
      return report([
        header,
        `soak: one scrape a second for ${SOAK_MINUTES} min; RSS slope by least squares from minute 10`,
        '',
        '| target | RSS MiB after 1 min | RSS MiB at the end | RSS slope |',
        '|---|---|---|---|',
        ...rows,
      ]);
    }

    const cpu = await steadyCpu(targets);
    await everySecond(targets, STEADY_SECONDS);
    const rssAt1Hz = targets.map((t) => rssBytes(t.child.pid!));
    const plain = await latency(targets, 'identity');
    const gzip = await latency(targets, 'gzip');
    const loaded: Loaded[] = [];
    for (const t of targets) loaded.push(await load(t));

    const ms = (v: number) => v.toFixed(2);
    const rows = targets.map((t, i) => {
      const c = cpu[i]!;
      return `| ${t.name} | ${ms(plain[i]!.p50)} | ${ms(plain[i]!.p99)} | ${ms(gzip[i]!.p50)} | ${ms(gzip[i]!.p99)} | ${(rssAt1Hz[i]! / MiB).toFixed(1)} | ${(loaded[i]!.rss / MiB).toFixed(1)} (${loaded[i]!.served} served, ${loaded[i]!.refused} refused) | ${c.toFixed(3)} s (${((c / 60) * 100).toFixed(2)} %) | ${i === 0 ? `${startUpMs.toFixed(0)} ms` : ''} |`;
    });
    report([
      header,
      `after ${WARMUP_SECONDS} s of warm-up: ${STEADY_SECONDS} s scraped every 15 s (CPU), ${STEADY_SECONDS} s every second (RSS), ${SCRAPES} back-to-back scrapes of each target per encoding taking turns, ${LOAD_SCRAPERS} concurrent scrapers for ${LOAD_SECONDS} s on each target in turn`,
      '',
      '| target | p50 ms | p99 ms | gzip p50 ms | gzip p99 ms | RSS MiB, 1 scrape/s | RSS MiB after 500 scrapers | CPU a minute (of one core), 15 s scrapes | start-up, no GPU tool |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
    ]);
  } finally {
    for (const t of targets) t.child.kill('SIGTERM');
    simulated.disconnect();
  }
}

function report(lines: readonly string[]): void {
  const text = lines.join('\n');
  console.log(text);
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  writeFileSync(join(ROOT, '.bench', `report-${Date.now()}.md`), `${text}\n`);
}

if (process.argv.includes('--simulated-node')) await simulatedNodeProcess();
else {
  await main();
  process.exit(0);
}
