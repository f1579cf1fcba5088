import { rename, rm, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Agent } from './agent.js';
import { ADAPTERS } from './collectors/runtimes/adapters/index.js';
import { ConfigError, type AgentConfig } from './config/load.js';
import { splitHostPort } from './core/listen.js';
import { systemClock, systemTimers } from './core/clock.js';
import { nodeProcessRunner } from './core/exec.js';
import { httpClient } from './core/http.js';
import { createLogger } from './core/logger.js';
import { scrub } from './core/secrets.js';
import { CONFIG_RELOAD_SUCCESS, CONFIG_RELOAD_TIME } from './core/self-metrics.js';
import { evalCommand, evaluationSummary, type EvalCommandOptions } from './eval/command.js';
import { probeCommand } from './probe/command.js';
import { PROBE_MODULES, type ProbeModule } from './probe/types.js';
import { MetricsServer } from './server/http.js';
import { loadConfig, loadStartupConfig, type StartupConfig } from './startup-config.js';
import { VERSION } from './core/version.js';

/** The runtimes the probe leaves alone: where the agent reads them, they serve no generations. */
const NOT_PROBED = ADAPTERS.filter((a) => a.generation.probeApi === undefined)
  .map((a) => ` but ${a.title}`)
  .join(',');

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
  eval                 Run the evaluation suites now (or --target, --suite) and compare each
                       with its baseline; --accept makes the last runs the baselines instead.

Options:
  --config FILE        YAML config file (default: built-in defaults, auto-detection).
  --listen HOST:PORT   Address of the HTTP server (run only; overrides 'listen').
  --ready-file FILE    Once serving, write the address it listens on to FILE (run only).
  --target NAME|URL    The runtime to probe or evaluate: its target name (probe: or base URL).
  --module MODULE      latency (the default) or canary (probe only).
  --suite NAME         The evaluation suite to run or accept (eval only).
  --accept             Accept the last recorded runs as the baselines (eval only).
  --version            Print the version.
  --help               Print this help.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid config.
`;

const COMMANDS = new Set(['run', 'once', 'doctor', 'check-config', 'probe', 'eval']);

export async function main(
  argv: readonly string[],
  rawIo: Io,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  // Whatever is printed passes the secret scrubber: the last line of defence (see secrets.ts).
  const io: Io = { out: (text) => rawIo.out(scrub(text)), err: (text) => rawIo.err(scrub(text)) };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        'ready-file': { type: 'string' },
        target: { type: 'string' },
        module: { type: 'string' },
        suite: { type: 'string' },
        accept: { type: 'boolean' },
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

  if (values.target !== undefined && command !== 'probe' && command !== 'eval') {
    io.err(`inferwatch: --target is for the probe and eval commands\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.module !== undefined && command !== 'probe') {
    io.err(`inferwatch: --module is for the probe command\n\n${USAGE}`);
    return EXIT.usage;
  }
  if ((values.suite !== undefined || values.accept) && command !== 'eval') {
    io.err(`inferwatch: --suite and --accept are for the eval command\n\n${USAGE}`);
    return EXIT.usage;
  }
  const module = values.module ?? 'latency';
  if (!(PROBE_MODULES as readonly string[]).includes(module)) {
    io.err(`inferwatch: --module must be one of ${PROBE_MODULES.join(', ')}\n`);
    return EXIT.usage;
  }

  // run refuses what check-config refuses, and check-config passes only what run starts on:
  // both check everything checkable without starting. The other commands need the schema only.
  const serving = command === 'check-config' || command === 'run';
  let startup: StartupConfig;
  try {
    startup = serving
      ? await loadStartupConfig(fileArg, { listen: values.listen })
      : { config: await loadConfig(fileArg, { listen: values.listen }), security: undefined };
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  const { config } = startup;

  switch (command) {
    case 'check-config':
      io.out(`${fileArg}: valid\n`);
      return EXIT.ok;
    case 'run':
      return run(
        startup,
        { file: fileArg, listen: values.listen },
        io,
        signals,
        values['ready-file'],
      );
    case 'once':
      return once(config, io);
    case 'doctor':
      return doctor(config, fileArg, io);
    case 'eval':
      return evaluate(
        config,
        { target: values.target, suite: values.suite, accept: values.accept ?? false },
        io,
      );
    default:
      return probe(config, { target: values.target, module: module as ProbeModule }, io);
  }
}

function world(config: AgentConfig, level = config.log_level) {
  return {
    runner: nodeProcessRunner,
    http: httpClient,
    clock: systemClock,
    timers: systemTimers,
    logger: createLogger(level),
  };
}

type World = ReturnType<typeof world>;

function startupWaitMs(config: AgentConfig): number {
  return (
    config.collectors.nvidia_smi.start_timeout_ms + 2 * config.collectors.nvidia_smi.interval_ms
  );
}

/**
 * once, doctor and probe collect and leave: they never send a generation (the probe command
 * sends its own) and never listen for one, so the probe and the proxy stay off in them.
 */
function withoutProbe(config: AgentConfig): AgentConfig {
  return {
    ...config,
    probe: { ...config.probe, enabled: false },
    evaluation: { ...config.evaluation, enabled: false },
    proxy: { ...config.proxy, enabled: false },
  };
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

async function evaluate(config: AgentConfig, options: EvalCommandOptions, io: Io): Promise<number> {
  const w = world(config, 'error');
  const agent = new Agent(withoutProbe(config), w);
  return evalCommand(config, agent, w, options, io.out);
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
        ? `\nprobe: in 'inferwatch run', every runtime above${NOT_PROBED} is probed every ${config.probe.interval_s} s; 'inferwatch probe' runs one now\n`
        : '\nprobe: switched off in the config\n',
    );
    io.out(evaluationSummary(config));
    return EXIT.ok;
  } finally {
    await agent.stop();
  }
}

async function run(
  startup: StartupConfig,
  source: { readonly file: string | undefined; readonly listen: string | undefined },
  io: Io,
  signals: NodeJS.EventEmitter,
  readyFile?: string,
): Promise<number> {
  const { config, security } = startup;
  const w = world(config);
  let agent = new Agent(config, w);
  let servingAgent: Promise<Agent> = Promise.resolve(agent);
  const { host, port } = splitHostPort(config.listen);
  let server: MetricsServer;
  try {
    server = new MetricsServer(
      {
        // During a reload, a scrape waits for the new agent (at most collectors.timeout_ms
        // past its start) rather than finding the sources between two configurations.
        metrics: async () => (await servingAgent).metrics(),
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
  } catch {
    // The web config was checked at load; a server that still will not build says so plainly.
    io.err('inferwatch: the HTTP server could not be set up from web.config_file\n');
    return EXIT.usage;
  }
  let bound: number;
  try {
    bound = await server.listen();
  } catch (error) {
    io.err(`inferwatch: ${(error as Error).message}\n`);
    w.logger.flush();
    return EXIT.failure;
  }
  await agent.start();
  reloaded(agent, w, true);
  w.logger.info(
    {
      listen: `${host}:${bound}`,
      collectors: agent.collectors.map((c) => c.name),
      version: VERSION,
    },
    'inferwatch started',
  );
  if (readyFile !== undefined) {
    try {
      await writeReadyFile(readyFile, `${host}:${bound}`);
    } catch (error) {
      io.err(
        `inferwatch: --ready-file: ${(error as NodeJS.ErrnoException).code ?? 'cannot write'}\n`,
      );
      await Promise.all([server.close(), agent.stop()]);
      w.logger.flush();
      return EXIT.failure;
    }
  }
  // One reload at a time, in the order the signals came.
  let reloads = Promise.resolve();
  const onHup = () => {
    reloads = reloads.then(async () => {
      const next = reload(agent, server, source, w).catch((error: unknown) => {
        // Not a config problem (those are refused by field): say so, and keep what runs.
        w.logger.error(
          { reason: error instanceof Error ? error.name : 'unknown' },
          'reload failed; still running on the previous configuration',
        );
        return agent;
      });
      servingAgent = next;
      agent = await next;
    });
  };
  signals.on('SIGHUP', onHup);
  const signal = await new Promise<string>((resolve) => {
    signals.once('SIGTERM', () => resolve('SIGTERM'));
    signals.once('SIGINT', () => resolve('SIGINT'));
  });
  signals.off('SIGHUP', onHup);
  w.logger.info({ signal }, 'shutting down');
  await reloads;
  await Promise.all([server.close(), agent.stop()]);
  if (readyFile !== undefined) await rm(readyFile, { force: true });
  w.logger.flush();
  return EXIT.ok;
}

/**
 * Says the agent serves: the address it listens on, written whole (a temporary file renamed)
 * once /metrics answers, and removed at shutdown. What starts the agent waits for it, rather
 * than for a log line.
 */
async function writeReadyFile(path: string, address: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${address}\n`);
  await rename(temporary, path);
}

/**
 * SIGHUP (systemctl reload): reads and checks the config and the web config again, as at
 * start. Valid, the agent is rebuilt on it, taking over its predecessor's state so no counter
 * falls; invalid, the agent goes on as it was and the log names every bad field. The listen
 * address and process_metrics need a restart; the log says so.
 */
async function reload(
  current: Agent,
  server: MetricsServer,
  source: { readonly file: string | undefined; readonly listen: string | undefined },
  w: World,
): Promise<Agent> {
  let next: StartupConfig;
  try {
    next = await loadStartupConfig(source.file, { listen: source.listen });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    w.logger.error(
      { problems: error.problems },
      'reload refused: the configuration is invalid; still running on the previous one',
    );
    reloaded(current, w, false);
    return current;
  }
  const { config } = next;
  for (const [changed, what] of [
    [config.listen !== current.config.listen, 'listen'],
    [config.web.process_metrics !== current.config.web.process_metrics, 'web.process_metrics'],
    [config.web.max_connections !== current.config.web.max_connections, 'web.max_connections'],
    [config.web.max_requests !== current.config.web.max_requests, 'web.max_requests'],
    [
      config.web.header_timeout_ms !== current.config.web.header_timeout_ms,
      'web.header_timeout_ms',
    ],
  ] as const)
    if (changed) w.logger.warn({ field: what }, `${what} changed: restart the agent to apply it`);
  const refused = server.setSecurity(next.security);
  if (refused) w.logger.warn(refused);
  w.logger.level = config.log_level;
  const agent = new Agent(config, w, current.state);
  await current.stop();
  // Families no collector writes any more (a source switched off) lose their series.
  const kept = agent.families();
  agent.exposition.publish(
    [...current.families()].filter((def) => !kept.has(def)),
    new Map(),
  );
  await agent.start();
  // Scrapes wait for this (see run): the sources get the time a scrape would give them.
  await agent.ready(config.collectors.timeout_ms);
  reloaded(agent, w, true);
  w.logger.info({ collectors: agent.collectors.map((c) => c.name) }, 'configuration reloaded');
  return agent;
}

/** inferwatch_config_last_reload_successful and its timestamp, as Prometheus exports its own. */
function reloaded(agent: Agent, w: { readonly clock: { epochMs(): number } }, ok: boolean): void {
  const { exposition } = agent;
  exposition.publish(
    [CONFIG_RELOAD_SUCCESS],
    new Map([[CONFIG_RELOAD_SUCCESS, [{ labels: {}, value: ok ? 1 : 0 }]]]),
  );
  if (ok)
    exposition.publish(
      [CONFIG_RELOAD_TIME],
      new Map([[CONFIG_RELOAD_TIME, [{ labels: {}, value: w.clock.epochMs() / 1000 }]]]),
    );
}
