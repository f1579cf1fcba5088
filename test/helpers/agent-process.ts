import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import { untilServing } from '../../demo/ready.js';
import { ROOT } from './fixtures.js';

export const MAIN = join(ROOT, 'dist/agent/main.js');
export const FAKE_BIN = join(ROOT, 'demo/fake/bin');

/** A fast config for tests: 200 ms sampling, a 600 ms watchdog, short backoff. */
export const FAST_CONFIG = `
log_level: debug
probe: { enabled: false }
collectors:
  timeout_ms: 1000
  nvidia_smi:
    interval_ms: 200
    silence_intervals: 3
    start_timeout_ms: 5000
    restart_backoff: { initial_ms: 200, max_ms: 1000 }
    processes: { interval_ms: 1000 }
  dcgm:
    enabled: false
  runtimes:
    discovery: { enabled: false }
`;

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'inferwatch-test-'));
}

export interface AgentProcess {
  readonly port: number;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly logs: Record<string, unknown>[];
  readonly dir: string;
  /** Where the fake nvidia-smi takes commands (hang, exit, garbage, lose-gpu N, driver-error). */
  control(command: string): void;
  /** The fake nvidia-smi invocations: "pid args". */
  invocations(): string[];
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  metrics(): Promise<Map<string, number>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  readonly config?: string;
  readonly env?: Record<string, string>;
  /** Leave the fake nvidia-smi off PATH. */
  readonly noNvidiaSmi?: boolean;
  /** A self-contained executable to run instead of Node.js with dist/agent/main.js. */
  readonly executable?: string;
}

export async function startAgent(options: StartOptions = {}): Promise<AgentProcess> {
  const dir = tempDir();
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, options.config ?? FAST_CONFIG);
  const controlPath = join(dir, 'control');
  const logPath = join(dir, 'invocations.log');
  writeFileSync(controlPath, '');
  writeFileSync(logPath, '');
  const readyFile = join(dir, 'ready');
  const args = [
    'run',
    '--config',
    configPath,
    '--listen',
    '127.0.0.1:0',
    '--ready-file',
    readyFile,
  ];
  const child = spawn(
    options.executable ?? process.execPath,
    options.executable ? args : [MAIN, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: options.noNvidiaSmi ? '/usr/bin:/bin' : `${FAKE_BIN}:/usr/bin:/bin`,
        FAKE_NVSMI_CONTROL: controlPath,
        FAKE_NVSMI_LOG: logPath,
        ...options.env,
      },
    },
  );
  const logs: Record<string, unknown>[] = [];
  let buffered = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  const address = await untilServing(
    child,
    readyFile,
    15_000,
    () => `:\n${logs.map((l) => JSON.stringify(l)).join('\n')}${buffered}`,
  );
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const base = `http://127.0.0.1:${port}`;
  const agent: AgentProcess = {
    port,
    child,
    logs,
    dir,
    control: (command) => writeFileSync(controlPath, command),
    invocations: () => readLines(logPath),
    get: (path, headers = {}) =>
      fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(5000) }),
    async metrics() {
      const res = await agent.get('/metrics');
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return seriesByKey(await res.text());
    },
    stop(signal = 'SIGTERM') {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
  };
  return agent;
}

/** A startAgent for one test file: every agent it starts is killed after each test. */
export function agentsKilledAfterEach(): (options?: StartOptions) => Promise<AgentProcess> {
  const running: AgentProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((a) => a.stop('SIGKILL')));
  });
  return async (options) => {
    const agent = await startAgent(options);
    running.push(agent);
    return agent;
  };
}

function readLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** Series (name plus labels, as printed) to value: for tests that look up a series by its text. */
export function seriesByKey(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** Values of one family, keyed by the label set as printed. */
export function family(series: Map<string, number>, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of series) {
    if (key === name || key.startsWith(`${name}{`)) out.set(key.slice(name.length), value);
  }
  return out;
}

export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await probe();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
