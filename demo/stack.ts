import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { httpClient } from '../agent/core/http.js';
import { freeLoopbackPort as freePort } from './sim/clients.js';
import { ROOT } from './sim/node.js';

/** The bundle's files, used as shipped. */
export const RULES_FILE = join(ROOT, 'alerts/inferwatch.rules.yml');
export const ALERTMANAGER_CONFIG = join(ROOT, 'alerts/alertmanager.example.yml');

export interface ScrapeTarget {
  /** host:port of an agent. */
  readonly address: string;
  /** Its node label. */
  readonly node: string;
}

export interface StackOptions {
  /** Where the configs, the data and the logs go. */
  readonly dir: string;
  readonly targets: readonly ScrapeTarget[];
  /** Default: a free port. */
  readonly prometheusPort?: number;
  readonly alertmanagerPort?: number;
  /** Scrape and rule evaluation interval (default 1 s). */
  readonly intervalSeconds?: number;
}

/** One element of an instant query's result vector. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The first of these on PATH (Debian names Alertmanager prometheus-alertmanager). */
export function findTool(names: readonly string[]): string | undefined {
  return names.find(
    (name) => spawnSync(name, ['--version'], { stdio: 'ignore', timeout: 5000 }).status === 0,
  );
}

/** Query answers larger than this are an error: a test never asks for that much. */
const QUERY_MAX_BYTES = 16 * 1024 * 1024;

export const PROMETHEUS = ['prometheus'];
export const ALERTMANAGER = ['prometheus-alertmanager', 'alertmanager'];

/**
 * Prometheus and Alertmanager on loopback with the bundle: the shipped rules, the example
 * routing, the agents scraped every second under the `inferwatch` job. For the end-to-end tests
 * and `inferwatch demo --stack`.
 */
export class MonitoringStack {
  private constructor(
    readonly prometheusUrl: string,
    readonly alertmanagerUrl: string,
    private readonly children: readonly ChildProcess[],
  ) {}

  static async start(options: StackOptions): Promise<MonitoringStack> {
    const prometheus = findTool(PROMETHEUS);
    const alertmanager = findTool(ALERTMANAGER);
    if (!prometheus || !alertmanager)
      throw new Error(
        `${prometheus ? '' : 'prometheus '}${alertmanager ? '' : 'alertmanager '}not found on PATH (Debian: apt-get install prometheus prometheus-alertmanager)`,
      );
    mkdirSync(options.dir, { recursive: true });
    const promPort = options.prometheusPort ?? (await freePort());
    const amPort = options.alertmanagerPort ?? (await freePort());
    const interval = `${options.intervalSeconds ?? 1}s`;
    const configFile = join(options.dir, 'prometheus.yml');
    writeFileSync(
      configFile,
      stringify({
        global: {
          scrape_interval: interval,
          scrape_timeout: interval,
          evaluation_interval: interval,
        },
        rule_files: [RULES_FILE],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
        scrape_configs: [
          {
            job_name: 'inferwatch',
            static_configs: options.targets.map((t) => ({
              targets: [t.address],
              labels: { node: t.node },
            })),
          },
        ],
      }),
    );
    const children = [
      launch(alertmanager, options.dir, 'alertmanager', [
        `--config.file=${ALERTMANAGER_CONFIG}`,
        `--storage.path=${join(options.dir, 'alertmanager-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ]),
      launch(prometheus, options.dir, 'prometheus', [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(options.dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ]),
    ];
    const stack = new MonitoringStack(
      `http://127.0.0.1:${promPort}`,
      `http://127.0.0.1:${amPort}`,
      children,
    );
    try {
      await Promise.all([
        ready(stack.alertmanagerUrl, children[0], join(options.dir, 'alertmanager.log')),
        ready(stack.prometheusUrl, children[1], join(options.dir, 'prometheus.log')),
      ]);
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  /** An instant query; the result must be a vector (or a scalar, as one sample). */
  async query(expr: string): Promise<Sample[]> {
    const res = await httpClient.get(
      `${this.prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`,
      { timeoutMs: 10_000, maxBytes: QUERY_MAX_BYTES },
    );
    const body = JSON.parse(res.body) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (body.status !== 'success' || !body.data)
      throw new Error(`${expr}: ${body.error ?? res.status}`);
    const { resultType, result } = body.data;
    if (resultType === 'scalar')
      return [{ metric: {}, value: Number((result as [number, string])[1]) }];
    if (resultType !== 'vector') throw new Error(`${expr}: a ${resultType}, not a vector`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map(terminate));
  }
}

function launch(command: string, dir: string, name: string, args: readonly string[]): ChildProcess {
  const log = createWriteStream(join(dir, `${name}.log`));
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function ready(url: string, child: ChildProcess | undefined, log: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child?.exitCode !== null)
      throw new Error(
        `${url}: the server exited with ${child?.exitCode} (a port in use?); see ${log}`,
      );
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} was not ready in 30 s; see ${log}`);
}

function terminate(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export { freePort };
