/**
 * `npm run bench` (metering proxy): what the proxy adds to what users of a runtime wait for.
 * A streaming runtime on loopback answers each chat with its headers and first token at once,
 * then a token every 20 ms; 100 clients keep 100 streams open, each starting the next chat as
 * its answer ends (their starts spread over one answer's second). The paths take turns, twice
 * each, so all see the same machine: direct (the runtime's own port), haproxy where it is
 * installed (a native proxy), a TCP relay in Node.js (Node's event loop without HTTP), a bare
 * Node.js proxy (the floor of any proxy on Node's http stack) and the built agent's route. Each request's
 * time to first byte is recorded: request sent to the first byte of the answer's body.
 *
 *   BENCH_PROXY_SECONDS   length of each turn (default 10; two per path)
 *   BENCH_PROXY_STREAMS   concurrent streams (default 100)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort, percentile, rssBytes, waitUntil } from './process-stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SECONDS = Number(process.env.BENCH_PROXY_SECONDS ?? '10');
const STREAMS = Number(process.env.BENCH_PROXY_STREAMS ?? '100');
const TOKENS = 50;
const TOKEN_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A runtime that streams at once: what a proxy adds is all there is to measure. */
async function runtime(): Promise<{ port: number; close(): void }> {
  const line = (word: string, done: boolean) =>
    `${JSON.stringify({ model: 'llama3.2:latest', created_at: '2026-12-02T10:00:00.000000000Z', message: { role: 'assistant', content: word }, done })}\n`;
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(line('The', false));
      let sent = 1;
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        if (++sent < TOKENS) {
          res.write(line(' word', false));
          return;
        }
        clearInterval(timer);
        res.end(
          `${JSON.stringify({ model: 'llama3.2:latest', done: true, prompt_eval_count: 12, eval_count: TOKENS })}\n`,
        );
      }, TOKEN_MS);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** `STREAMS` clients chatting back to back for `seconds`; each answer's time to first byte. */
async function load(port: number, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: STREAMS });
  const body = JSON.stringify({
    model: 'llama3.2',
    messages: [{ role: 'user', content: 'Why is the sky blue?' }],
  });
  const ttfb: number[] = [];
  const until = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/chat',
          method: 'POST',
          agent,
          // A stream lasts one second; one that stalls ten is a failure, not a wait.
          timeout: 10_000,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let first = true;
          res.on('data', () => {
            if (first) ttfb.push(performance.now() - start);
            first = false;
          });
          // Closed is the end of it, complete or not: a broken stream does not hang the bench.
          res.on('close', () => resolve());
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve());
      req.end(body);
    });
  // Streams start spread over one answer's length, as users' chats do, not all at once.
  await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      await sleep(((i / STREAMS) * TOKENS * TOKEN_MS) | 0);
      while (performance.now() < until) await one();
    }),
  );
  agent.destroy();
  return ttfb.sort((a, b) => a - b);
}

/**
 * The least a Node.js reverse proxy does (this file with `--bare`): each request passed on
 * with Node's http client over keep-alive connections, each answer piped back. No metering,
 * no limits, no header hygiene: the floor any proxy written on Node's http stack stands on.
 */
function bareProxy(listen: number, upstream: number): void {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  createServer({ noDelay: true }, (req, res) => {
    const forward = request(
      {
        host: '127.0.0.1',
        port: upstream,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('socket', (socket) => socket.setNoDelay(true));
    req.pipe(forward);
  }).listen(listen, '127.0.0.1');
}

/**
 * A TCP relay in Node.js (this file with `--relay`): each client connection piped to its own
 * connection to the runtime, bytes both ways, no HTTP at all. What Node's event loop costs
 * beneath its http stack.
 */
function relay(listen: number, upstream: number): void {
  createNetServer({ noDelay: true }, (client) => {
    const runtime = connect({ host: '127.0.0.1', port: upstream, noDelay: true });
    client.pipe(runtime).pipe(client);
    client.on('error', () => runtime.destroy());
    runtime.on('error', () => client.destroy());
  }).listen(listen, '127.0.0.1');
}

/** Until something answers HTTP on `port` (any status). */
function waitForPort(port: number): Promise<void> {
  return waitUntil(
    () =>
      new Promise<boolean>((resolve) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/api/version', timeout: 1000 },
          (res) => {
            res.resume();
            resolve(true);
          },
        );
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
        req.end();
      }),
    `port ${port}`,
  );
}

/**
 * haproxy, where it is installed: a native reverse proxy in HTTP mode with kept-alive
 * connections to the runtime and no Nagle delay, for what a proxy in native code adds here.
 */
function haproxy(dir: string, listen: number, upstream: number): ChildProcess | undefined {
  if (spawnSync('haproxy', ['-v']).error) return undefined;
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'defaults',
      '  mode http',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  http-reuse always',
      '  option http-no-delay',
      'frontend clients',
      `  bind 127.0.0.1:${listen}`,
      '  default_backend runtime',
      'backend runtime',
      `  server runtime 127.0.0.1:${upstream}`,
      '',
    ].join('\n'),
  );
  return spawn('haproxy', ['-f', config, '-db'], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  const upstream = await runtime();
  const [proxyPort, barePort, haproxyPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'inferwatch-proxy-bench-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `collectors:
  nvidia_smi: { enabled: false }
  kernel_events: { enabled: false }
  dcgm: { enabled: false }
  runtime_logs: { enabled: false }
  runtimes: { discovery: { enabled: false } }
probe: { enabled: false }
proxy:
  routes:
    - { listen: "127.0.0.1:${proxyPort}", upstream: "http://127.0.0.1:${upstream.port}", runtime: ollama, name: bench }
`,
  );
  const agent = spawn(
    process.execPath,
    [join(ROOT, 'dist/agent/main.js'), 'run', '--config', config, '--listen', '127.0.0.1:0'],
    { stdio: 'ignore' },
  );
  const bare = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--bare', String(barePort), String(upstream.port)],
    { stdio: 'ignore' },
  );
  const relayPort = await freePort();
  const tcpRelay = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--relay', String(relayPort), String(upstream.port)],
    { stdio: 'ignore' },
  );
  const native = haproxy(dir, haproxyPort, upstream.port);
  await Promise.all([
    waitForPort(proxyPort),
    waitForPort(barePort),
    waitForPort(relayPort),
    ...(native ? [waitForPort(haproxyPort)] : []),
  ]);
  const pid = agent.pid as number;
  const paths: Record<string, number> = {
    direct: upstream.port,
    ...(native && { haproxy: haproxyPort }),
    'Node TCP': relayPort,
    'bare Node': barePort,
    inferwatch: proxyPort,
  };
  const samples = new Map<string, number[]>(Object.keys(paths).map((k) => [k, []]));
  let cpu = 0;
  let rssPeak = 0;
  for (let round = 0; round < 2; round++)
    for (const [name, port] of Object.entries(paths)) {
      const cpuBefore = cpuSeconds(pid);
      const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(pid))), 500);
      samples.get(name)?.push(...(await load(port, SECONDS)));
      clearInterval(sampler);
      if (name === 'inferwatch') cpu += cpuSeconds(pid) - cpuBefore;
    }
  for (const list of samples.values()) list.sort((a, b) => a - b);
  const direct = samples.get('direct') ?? [];
  const row = (name: string, s: number[]) =>
    `${name.padEnd(11)} ${String(s.length).padStart(7)} ${percentile(s, 50).toFixed(2).padStart(8)} ${percentile(s, 99).toFixed(2).padStart(8)} ${(s.at(-1) ?? NaN).toFixed(2).padStart(8)} ${(percentile(s, 50) - percentile(direct, 50)).toFixed(2).padStart(10)} ${(percentile(s, 99) - percentile(direct, 99)).toFixed(2).padStart(10)}`;
  console.log(
    `\nMetering proxy: time to first byte, ${STREAMS} concurrent streams (${TOKENS} tokens every ${TOKEN_MS} ms), ${2 * SECONDS} s per path, paths alternated\n` +
      `path        answers   p50 ms   p99 ms   max ms  +p50 ms   +p99 ms\n` +
      [...samples].map(([name, s]) => row(name, s)).join('\n') +
      `\ninferwatch while proxying: ${(cpu / (2 * SECONDS)).toFixed(2)} cores, RSS peak ${(rssPeak / 1048576).toFixed(1)} MiB` +
      (native
        ? ''
        : '\n(haproxy is not installed: apt-get install haproxy adds a native proxy for reference)'),
  );
  for (const child of [agent, bare, tcpRelay, ...(native ? [native] : [])]) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  upstream.close();
}

const [listenArg, upstreamArg] = process.argv.slice(-2).map(Number);
if (process.argv.includes('--bare')) bareProxy(listenArg as number, upstreamArg as number);
else if (process.argv.includes('--relay')) relay(listenArg as number, upstreamArg as number);
else await main();
