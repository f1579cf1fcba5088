import { parseArgs } from 'node:util';
import { Agent } from './agent.js';
import { ConfigError, parseConfig, readConfigFile, type AgentConfig } from './config/load.js';
import { systemClock } from './core/clock.js';
import { nodeProcessRunner } from './core/exec.js';
import { fetchClient } from './core/http.js';
import { createLogger } from './core/logger.js';
import { probeCommand } from './probe/command.js';
import { PROBE_MODULES, type ProbeModule } from './probe/types.js';
import { MetricsServer } from './server/http.js';
import { loadWebConfig } from './server/web-config.js';
import { VERSION } from './version.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const USAGE = `Usage: inferwatch [command] [options]

Commands:
  run                  Run the agent and serve /metrics (the default).
  once                 Collect once and print the exposition text on stdout.
  doctor               Say which sources were found, which are missing, and why.
  check-config FILE    Validate a config file; print every problem with its path.
  probe                Probe each runtime once (or --target) and print what a user would get.
  demo                 Run the agent on a simulated GPU node, without a GPU (demo --help).

Options:
  --config FILE        YAML config file (default: built-in defaults, auto-detection).
  --listen HOST:PORT   Address of the HTTP server (run only; overrides 'listen').
  --target NAME|URL    The runtime to probe (probe only): its target name or base URL.
  --module MODULE      latency (the default) or canary (probe only).
  --version            Print the version.
  --help               Print this help.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid config.
`;

const COMMANDS = new Set(['run', 'once', 'doctor', 'check-config', 'probe']);

export async function main(
  argv: readonly string[],
  io: Io,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  if (argv[0] === 'demo') {
    // Loaded only here: the demo's simulation is not part of the agent (nor of its image).
    const demo = await import('../demo/command.js').catch(() => undefined);
    if (!demo) {
      io.err('inferwatch: the demo runs from a clone of the repository: npm ci && npm run demo\n');
      return EXIT.failure;
    }
    return demo.demoCommand(argv.slice(1), io, signals);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        target: { type: 'string' },
        module: { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.err(`inferwatch: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (values.version) {
    io.out(`inferwatch ${VERSION}\n`);
    return EXIT.ok;
  }
  const [command = 'run', ...rest] = positionals;
  if (!COMMANDS.has(command)) {
    io.err(`inferwatch: unknown command '${command}'\n\n${USAGE}`);
    return EXIT.usage;
  }
  const fileArg = command === 'check-config' ? rest.shift() : values.config;
  if (rest.length > 0 || (command === 'check-config' && !fileArg)) {
    io.err(
      `inferwatch: ${command === 'check-config' ? 'check-config needs one FILE' : `unexpected argument '${rest[0]}'`}\n\n${USAGE}`,
    );
    return EXIT.usage;
  }

  let config: AgentConfig;
  try {
    const raw = fileArg ? await readConfigFile(fileArg) : {};
    const overridden = values.listen && isObject(raw) ? { ...raw, listen: values.listen } : raw;
    config = parseConfig(overridden, fileArg ?? '--listen');
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }

  if ((values.target !== undefined || values.module !== undefined) && command !== 'probe') {
    io.err(`inferwatch: --target and --module are for the probe command\n\n${USAGE}`);
    return EXIT.usage;
  }
  const module = values.module ?? 'latency';
  if (!(PROBE_MODULES as readonly string[]).includes(module)) {
    io.err(`inferwatch: --module must be one of ${PROBE_MODULES.join(', ')}\n`);
    return EXIT.usage;
  }

  switch (command) {
    case 'check-config':
      if (config.web.config_file) {
        try {
          await loadWebConfig(config.web.config_file);
        } catch (error) {
          if (error instanceof ConfigError) {
            io.err(`${error.message}\n`);
            return EXIT.usage;
          }
          throw error;
        }
      }
      io.out(`${fileArg}: valid\n`);
      return EXIT.ok;
    case 'once':
      return once(config, io);
    case 'doctor':
      return doctor(config, fileArg, io);
    case 'probe':
      return probe(config, { target: values.target, module: module as ProbeModule }, io);
    default:
      return run(config, io, signals);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function world(config: AgentConfig, level = config.log_level) {
  return {
    runner: nodeProcessRunner,
    http: fetchClient,
    clock: systemClock,
    logger: createLogger(level),
  };
}

function startupWaitMs(config: AgentConfig): number {
  return (
    config.collectors.nvidia_smi.start_timeout_ms + 2 * config.collectors.nvidia_smi.interval_ms
  );
}

/** once and doctor collect; they never send a generation, so the probe stays off in them. */
function withoutProbe(config: AgentConfig): AgentConfig {
  return { ...config, probe: { ...config.probe, enabled: false } };
}

async function probe(
  config: AgentConfig,
  options: { target: string | undefined; module: ProbeModule },
  io: Io,
): Promise<number> {
  const w = world(config, 'error');
  const agent = new Agent(withoutProbe(config), w);
  return probeCommand(config, agent, w, options, io.out);
}

async function once(config: AgentConfig, io: Io): Promise<number> {
  const agent = new Agent(withoutProbe(config), world(config));
  try {
    await agent.start();
    await agent.ready(startupWaitMs(config));
    io.out(await agent.metrics());
    return EXIT.ok;
  } finally {
    await agent.stop();
  }
}

async function doctor(config: AgentConfig, file: string | undefined, io: Io): Promise<number> {
  const agent = new Agent(withoutProbe(config), world(config, 'error'));
  try {
    await agent.start();
    await agent.ready(startupWaitMs(config));
    await agent.metrics();
    const statuses = agent.statuses();
    const width = Math.max(...statuses.map((s) => s.name.length), 9);
    io.out(
      `inferwatch ${VERSION}\nconfig: ${file ?? 'built-in defaults'}\nlisten: ${config.listen}\n\n`,
    );
    for (const { name, status } of statuses) {
      io.out(`${name.padEnd(width)}  ${status.state.padEnd(8)}  ${status.detail}\n`);
      for (const line of status.lines ?? []) io.out(`  ${line}\n`);
    }
    const off = Object.entries(config.collectors)
      .filter(([, c]) => typeof c === 'object' && !c.enabled)
      .map(([name]) => name);
    if (off.length) io.out(`\nswitched off in the config: ${off.join(', ')}\n`);
    io.out(
      config.probe.enabled
        ? `\nprobe: in 'inferwatch run', every runtime above but Triton is probed every ${config.probe.interval_s} s; 'inferwatch probe' runs one now\n`
        : '\nprobe: switched off in the config\n',
    );
    return EXIT.ok;
  } finally {
    await agent.stop();
  }
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(listen.slice(at + 1)) };
}

async function run(config: AgentConfig, io: Io, signals: NodeJS.EventEmitter): Promise<number> {
  let security;
  try {
    security = config.web.config_file ? await loadWebConfig(config.web.config_file) : undefined;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  const w = world(config);
  const agent = new Agent(config, w);
  const { host, port } = splitHostPort(config.listen);
  const server = new MetricsServer(
    {
      metrics: () => agent.metrics(),
      contentType: agent.exposition.contentType,
      statuses: () => agent.statuses(),
      probe: (target, module) => agent.probeAnswer(target, module),
    },
    {
      host,
      port,
      maxRequests: config.web.max_requests,
      maxConnections: config.web.max_connections,
      headerTimeoutMs: config.web.header_timeout_ms,
      version: VERSION,
      ...(security ? { security } : {}),
    },
    w.logger,
  );
  let bound: number;
  try {
    bound = await server.listen();
  } catch (error) {
    io.err(`inferwatch: ${(error as Error).message}\n`);
    w.logger.flush();
    return EXIT.failure;
  }
  await agent.start();
  w.logger.info(
    {
      listen: `${host}:${bound}`,
      collectors: agent.collectors.map((c) => c.name),
      version: VERSION,
    },
    'inferwatch started',
  );
  const signal = await new Promise<string>((resolve) => {
    signals.once('SIGTERM', () => resolve('SIGTERM'));
    signals.once('SIGINT', () => resolve('SIGINT'));
  });
  w.logger.info({ signal }, 'shutting down');
  await Promise.all([server.close(), agent.stop()]);
  w.logger.flush();
  return EXIT.ok;
}
