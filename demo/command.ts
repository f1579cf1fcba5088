import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCapped } from '../agent/core/http.js';
import { startAgent, type RunningAgent } from './agent-process.js';
import { ControlServer } from './control.js';
import { INCIDENTS, INCIDENT_NAMES, isIncident } from './sim/incidents.js';
import { OLLAMA_TARGET, ROOT, SimulatedNode } from './sim/node.js';
import { ALERTMANAGER, findTool, MonitoringStack, PROMETHEUS } from './stack.js';
import { WebhookReceiver, type Notification } from './webhook.js';

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
  --dir DIR             Where the node's files go (default: a new temporary directory).
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
  if (sub === 'clear') return call(io, `${control}/incidents`, 'DELETE');
  if (sub === 'inject') {
    const name = rest[0] ?? '';
    if (!isIncident(name)) {
      io.err(`inferwatch demo: inject needs one of: ${INCIDENT_NAMES.join(', ')}\n`);
      return EXIT.usage;
    }
    const query = new URLSearchParams();
    if (values.gpu !== undefined) query.set('gpu', values.gpu);
    if (values.target !== undefined) query.set('target', values.target);
    return call(io, `${control}/incidents/${name}?${query}`, 'POST');
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
  return runDemo(
    {
      gpus,
      interval,
      stack: values.stack === true,
      listen: values.listen ?? '127.0.0.1:9500',
      control: values.control ?? DEFAULT_CONTROL,
      dir: values.dir ?? mkdtempSync(join(tmpdir(), 'inferwatch-demo-')),
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

async function call(io: DemoIo, url: string, method: string): Promise<number> {
  try {
    const res = await fetch(url, { method, signal: AbortSignal.timeout(5000) });
    const text = await readCapped(res, CONTROL_MAX_BYTES);
    (res.ok ? io.out : io.err)(text);
    return res.ok ? EXIT.ok : EXIT.failure;
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
  readonly dir: string;
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
  try {
    const node = await SimulatedNode.start({
      name: 'demo-gpu-node',
      dir: options.dir,
      gpus: options.gpus,
      ollama: { model: 'llama3.2:latest', requestsPerSecond: 1 },
    });
    closers.push(() => node.close());
    const agent: RunningAgent = await startAgent(node, options.listen);
    closers.push(() => agent.stop());
    const controlServer = new ControlServer(node);
    const [controlHost, controlPort] = splitHostPort(options.control);
    const controlUrl = await controlServer.listen(controlPort, controlHost);
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
      `  Node files      ${options.dir}`,
      `  Control         ${controlUrl}`,
    ];
    if (options.stack) {
      const missing = [
        findTool(PROMETHEUS) ? '' : 'prometheus',
        findTool(ALERTMANAGER) ? '' : 'prometheus-alertmanager',
      ].filter(Boolean);
      if (missing.length > 0) {
        lines.push(
          '',
          `  --stack: ${missing.join(' and ')} not installed (Debian: apt-get install ${missing.join(' ')}); running without.`,
        );
      } else {
        const webhook = new WebhookReceiver();
        await webhook.listen(5001);
        closers.push(() => webhook.close());
        webhook.onNotification((n) => io.out(describe(n)));
        const stack = await MonitoringStack.start({
          dir: join(options.dir, 'stack'),
          targets: [{ address: agent.address, node: node.name }],
          prometheusPort: 9090,
          alertmanagerPort: 9093,
          intervalSeconds: options.interval,
        });
        closers.push(() => stack.stop());
        lines.push(
          `  Prometheus      ${stack.prometheusUrl}/alerts   (rules: alerts/inferwatch.rules.yml, every ${options.interval} s)`,
          `  Alertmanager    ${stack.alertmanagerUrl}   (routing: alerts/alertmanager.example.yml)`,
          '  Pages and tickets are printed here as Alertmanager delivers them (webhook on 127.0.0.1:5001).',
          '',
          'Grafana: add a Prometheus data source with the URL http://127.0.0.1:9090, then import',
          `${join(ROOT, 'dashboards')}/*.json (Dashboards > New > Import), choosing that data source.`,
          'Or with Docker: docker run --network host grafana/grafana, then the same on http://localhost:3000.',
        );
      }
    }
    const self = `node ${join(ROOT, 'dist/agent/main.js')} demo`;
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

function splitHostPort(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at) || '127.0.0.1', Number(address.slice(at + 1))];
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
