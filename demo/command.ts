import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCapped } from '../agent/core/http.js';
import { splitHostPort } from '../agent/core/listen.js';
import { startAgent, type RunningAgent } from './agent-process.js';
import { ControlServer } from './control.js';
import { INCIDENTS, INCIDENT_NAMES, isIncident, type IncidentInfo } from './sim/incidents.js';
import { OLLAMA_TARGET, ROOT, SimulatedNode, type Injection } from './sim/node.js';
import { ALERTMANAGER, findTool, MonitoringStack, PROMETHEUS } from './stack.js';
import { WebhookReceiver, type Notification } from './webhook.js';
import { alertHolds, cleared, injected } from './words.js';

export interface DemoIo {
  out(text: string): void;
  err(text: string): void;
}

const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
const DEFAULT_CONTROL = '127.0.0.1:9501';
/** The control interface answers a page of JSON. */
const CONTROL_MAX_BYTES = 1024 * 1024;

export const DEMO_USAGE = `Usage: npm run demo -- [options]        start a simulated GPU node and the agent
       npm run demo -- incidents            list the incidents that can be injected
       npm run demo -- inject INCIDENT [--gpu N] [--target NAME]
       npm run demo -- clear                heal the node
       (after a build, node dist/demo/main.js takes the same arguments)

Options of the demo:
  --stack               Also start Prometheus and Alertmanager (Debian: prometheus,
                        prometheus-alertmanager) with the bundle's rules and example routing,
                        and print pages and tickets as they are delivered.
  --gpus N              Simulated GPUs (default 8).
  --listen HOST:PORT    The agent's address (default 127.0.0.1:9500).
  --control HOST:PORT   The demo's control interface (default ${DEFAULT_CONTROL}).
  --interval SECONDS    Scrape and rule interval of --stack's Prometheus (default 5).
  --prometheus-port N   --stack's Prometheus (default 9090).
  --alertmanager-port N --stack's Alertmanager (default 9093).
  --webhook-port N      Where --stack's Alertmanager delivers pages and tickets (default 5001).
  --dir DIR             Where the node's files go (default: a new temporary directory,
                        removed when the demo stops).
`;

export async function demoCommand(
  argv: readonly string[],
  io: DemoIo,
  signals: NodeJS.EventEmitter,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        stack: { type: 'boolean' },
        gpus: { type: 'string' },
        listen: { type: 'string' },
        control: { type: 'string' },
        interval: { type: 'string' },
        dir: { type: 'string' },
        'prometheus-port': { type: 'string' },
        'alertmanager-port': { type: 'string' },
        'webhook-port': { type: 'string' },
        gpu: { type: 'string' },
        target: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.err(`inferwatch demo: ${(error as Error).message}\n\n${DEMO_USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(DEMO_USAGE);
    return EXIT.ok;
  }
  const [sub, ...rest] = positionals;
  const control = `http://${values.control ?? DEFAULT_CONTROL}`;
  if (sub === 'incidents') return listIncidents(io);
  if (sub === 'clear') return call(io, `${control}/incidents`, 'DELETE', sayCleared);
  if (sub === 'inject') {
    const name = rest[0] ?? '';
    if (!isIncident(name)) {
      io.err(`inferwatch demo: inject needs one of: ${INCIDENT_NAMES.join(', ')}\n`);
      return EXIT.usage;
    }
    const query = new URLSearchParams();
    if (values.gpu !== undefined) query.set('gpu', values.gpu);
    if (values.target !== undefined) query.set('target', values.target);
    return call(io, `${control}/incidents/${name}?${query}`, 'POST', sayInjected);
  }
  if (sub !== undefined) {
    io.err(`inferwatch demo: unknown subcommand '${sub}'\n\n${DEMO_USAGE}`);
    return EXIT.usage;
  }
  const gpus = Number(values.gpus ?? 8);
  const interval = Number(values.interval ?? 5);
  if (!Number.isInteger(gpus) || gpus < 1 || gpus > 64) {
    io.err('inferwatch demo: --gpus must be a whole number from 1 to 64\n');
    return EXIT.usage;
  }
  if (!Number.isInteger(interval) || interval < 1 || interval > 60) {
    io.err('inferwatch demo: --interval must be a whole number of seconds from 1 to 60\n');
    return EXIT.usage;
  }
  const ports = {
    prometheus: Number(values['prometheus-port'] ?? 9090),
    alertmanager: Number(values['alertmanager-port'] ?? 9093),
    webhook: Number(values['webhook-port'] ?? 5001),
  };
  for (const [name, port] of Object.entries(ports))
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      io.err(`inferwatch demo: --${name}-port must be a port number from 1 to 65535\n`);
      return EXIT.usage;
    }
  return runDemo(
    {
      gpus,
      interval,
      stack: values.stack === true,
      listen: values.listen ?? '127.0.0.1:9500',
      control: values.control ?? DEFAULT_CONTROL,
      ports,
      ...(values.dir === undefined ? {} : { dir: values.dir }),
    },
    io,
    signals,
  );
}

function listIncidents(io: DemoIo): number {
  for (const [name, info] of Object.entries(INCIDENTS)) {
    const alerts = [...info.fires, ...info.pending.map((a) => `${a} (pending: long for)`)];
    io.out(
      `${name.padEnd(18)} ${info.scope.padEnd(8)} ${info.summary}\n${' '.repeat(28)}-> ${alerts.join(', ') || 'no alert'}\n`,
    );
  }
  return EXIT.ok;
}

/** What `inject` says: what was done, and which alerts to expect where. */
function sayInjected(body: unknown): string {
  const {
    injected: injection,
    expect,
    stack,
  } = body as {
    injected: Injection;
    expect: IncidentInfo;
    stack: boolean;
  };
  return injected(
    injection,
    expect,
    stack
      ? "The demo's terminal prints each page and ticket as Alertmanager delivers it (after its 30 s group wait)."
      : "This demo runs without --stack: no Prometheus evaluates the rules, so the incident shows only on the agent's /metrics.",
  );
}

/** What `clear` says: what was healed, and which alerts keep firing, for how long at most. */
function sayCleared(body: unknown): string {
  const { cleared: healed, stack } = body as { cleared: Injection[]; stack: boolean };
  // Without --stack no rule was evaluated: no alert is left to end.
  const holds = stack
    ? alertHolds(readFileSync(join(ROOT, 'alerts/inferwatch.rules.yml'), 'utf8'))
    : undefined;
  return cleared(healed, INCIDENTS, holds);
}

async function call(
  io: DemoIo,
  url: string,
  method: string,
  say: (body: unknown) => string,
): Promise<number> {
  try {
    const res = await fetch(url, { method, signal: AbortSignal.timeout(5000) });
    const body = JSON.parse(await readCapped(res, CONTROL_MAX_BYTES)) as { error?: string };
    if (!res.ok) {
      io.err(`inferwatch demo: ${body.error ?? `the demo answered ${res.status}`}\n`);
      return EXIT.failure;
    }
    io.out(say(body));
    return EXIT.ok;
  } catch (error) {
    io.err(
      `inferwatch demo: no demo answers at ${url} (${(error as Error).message}); start one with: npm run demo\n`,
    );
    return EXIT.failure;
  }
}

interface DemoOptions {
  readonly gpus: number;
  readonly interval: number;
  readonly stack: boolean;
  readonly listen: string;
  readonly control: string;
  readonly ports: {
    readonly prometheus: number;
    readonly alertmanager: number;
    readonly webhook: number;
  };
  /** Where the node's files go; unset: a temporary directory, removed at the end. */
  readonly dir?: string;
}

async function runDemo(
  options: DemoOptions,
  io: DemoIo,
  signals: NodeJS.EventEmitter,
): Promise<number> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'inferwatch-demo-'));
  // A directory the demo made is the demo's to remove, last.
  if (options.dir === undefined) closers.push(() => rm(dir, { recursive: true, force: true }));
  try {
    const taken = await takenPort([
      [options.listen, '--listen HOST:PORT'],
      [options.control, '--control HOST:PORT'],
      ...(options.stack
        ? ([
            [`127.0.0.1:${options.ports.prometheus}`, '--prometheus-port N'],
            [`127.0.0.1:${options.ports.alertmanager}`, '--alertmanager-port N'],
            [`127.0.0.1:${options.ports.webhook}`, '--webhook-port N'],
          ] as const)
        : []),
    ]);
    if (taken) {
      io.err(`inferwatch demo: ${taken}\n`);
      await closeAll();
      return EXIT.failure;
    }
    const node = await SimulatedNode.start({
      name: 'demo-gpu-node',
      dir,
      gpus: options.gpus,
      ollama: { model: 'llama3.2:latest', requestsPerSecond: 1 },
    });
    closers.push(() => node.close());
    const agent: RunningAgent = await startAgent(node, options.listen);
    closers.push(() => agent.stop());
    // Looked for once: whether --stack can run, which the control interface tells its clients.
    const missing = options.stack
      ? [
          findTool(PROMETHEUS) ? '' : 'prometheus',
          findTool(ALERTMANAGER) ? '' : 'prometheus-alertmanager',
        ].filter(Boolean)
      : [];
    const controlServer = new ControlServer(node, options.stack && missing.length === 0);
    const control = splitHostPort(options.control);
    const controlUrl = await controlServer.listen(control.port, control.host);
    closers.push(() => controlServer.close());

    const lines = [
      `inferwatch demo: a simulated GPU node (${options.gpus} x H100 80GB, ${[...[...node.runtimes.values()].map((r) => r.kind), ...(node.ollama ? ['ollama'] : [])].join(' + ')}) and the real agent.`,
      '',
      `  Agent           http://${agent.address}/metrics   (log: ${agent.logFile})`,
      ...[...node.runtimes].map(
        ([name, r]) => `  Runtime ${name.padEnd(7)} ${r.url}   (${r.kind}, ${r.model})`,
      ),
      ...(node.ollama
        ? [
            `  Runtime ${OLLAMA_TARGET.padEnd(7)} ${node.ollama.url}   (ollama, ${node.ollama.models.join(', ')}; no metrics of its own: its users go through the agent's metering proxy at ${node.proxyUrl ?? ''})`,
          ]
        : []),
      `  Node files      ${dir}${options.dir === undefined ? '   (removed when the demo stops)' : ''}`,
      `  Control         ${controlUrl}`,
    ];
    if (options.stack) {
      if (missing.length > 0) {
        lines.push(
          '',
          `  --stack: ${missing.join(' and ')} not installed (Debian: apt-get install ${missing.join(' ')}); running without.`,
        );
      } else {
        const webhook = new WebhookReceiver();
        await webhook.listen(options.ports.webhook);
        closers.push(() => webhook.close());
        webhook.onNotification((n) => io.out(describe(n)));
        const stack = await MonitoringStack.start({
          dir: join(dir, 'stack'),
          targets: [{ address: agent.address, node: node.name }],
          prometheusPort: options.ports.prometheus,
          alertmanagerPort: options.ports.alertmanager,
          intervalSeconds: options.interval,
        });
        closers.push(() => stack.stop());
        lines.push(
          `  Prometheus      ${stack.prometheusUrl}/alerts   (rules: alerts/inferwatch.rules.yml, every ${options.interval} s)`,
          `  Alertmanager    ${stack.alertmanagerUrl}   (routing: alerts/alertmanager.example.yml)`,
          `  Pages and tickets are printed here as Alertmanager delivers them (webhook on 127.0.0.1:${options.ports.webhook}).`,
          '',
          `Grafana: add a Prometheus data source with the URL ${stack.prometheusUrl}, then import`,
          `${join(ROOT, 'dashboards')}/*.json (Dashboards > New > Import), choosing that data source.`,
          'Or with Docker: docker run --network host grafana/grafana, then the same on http://localhost:3000.',
        );
      }
    }
    if (!options.stack)
      lines.push(
        '',
        'No Prometheus runs without --stack, so no alert fires here: the incidents show on the',
        "agent's /metrics, and 'incidents' lists the alerts each raises (npm run demo:stack shows them).",
      );
    const self = `node ${join(ROOT, 'dist/demo/main.js')}`;
    lines.push(
      '',
      'Inject an incident from another terminal (they last until cleared):',
      `  ${self} inject xid-fatal`,
      `  ${self} inject saturation --target vllm`,
      `  ${self} inject slow-first-token     # the proxied Ollama: the proxy sees it`,
      `  ${self} incidents      # all of them, and the alerts each should raise`,
      `  ${self} clear`,
      '',
      'Ctrl-C stops everything.',
      '',
    );
    io.out(lines.join('\n'));
    await new Promise<void>((resolve) => {
      signals.once('SIGINT', resolve);
      signals.once('SIGTERM', resolve);
    });
    io.out('inferwatch demo: stopping\n');
    await closeAll();
    return EXIT.ok;
  } catch (error) {
    io.err(`inferwatch demo: ${(error as Error).message}\n`);
    await closeAll();
    return EXIT.failure;
  }
}

function describe(n: Notification): string {
  const kind =
    n.receiver === 'pager' ? 'PAGE' : n.receiver === 'ticket' ? 'TICKET' : n.receiver.toUpperCase();
  if (kind === 'HEARTBEAT') return '';
  return n.alerts
    .map((a) => {
      const where = ['gpu', 'target', 'model']
        .filter((k) => a.labels[k])
        .map((k) => `${k}=${a.labels[k]}`)
        .join(' ');
      return `${new Date(n.at).toISOString().slice(11, 19)} ${kind.padEnd(6)} ${a.status.padEnd(8)} ${a.labels.alertname ?? ''} ${where}\n${' '.repeat(25)}${a.annotations.summary ?? ''}\n${' '.repeat(25)}${a.annotations.runbook_url ?? ''}\n`;
    })
    .join('');
}

/** The first address already taken, named with the flag that moves it; undefined when all are free. */
async function takenPort(
  addresses: readonly (readonly [string, string])[],
): Promise<string | undefined> {
  for (const [address, flag] of addresses) {
    const { host, port } = splitHostPort(address);
    if (port === 0) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, host, () => probe.close(() => resolve(true)));
    });
    if (!free) return `${host}:${port} is taken (another demo, agent or Prometheus?): pass ${flag}`;
  }
  return undefined;
}
