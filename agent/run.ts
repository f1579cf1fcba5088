import { rename, rm, writeFile } from 'node:fs/promises';
import { Agent } from './agent.js';
import { ConfigError } from './config/load.js';
import { splitHostPort } from './core/listen.js';
import { CONFIG_RELOAD_SUCCESS, CONFIG_RELOAD_TIME, WEB_INFO } from './core/self-metrics.js';
import { MetricsServer } from './server/http.js';
import { loadStartupConfig, type StartupConfig } from './startup-config.js';
import { VERSION } from './core/version.js';
import { EXIT, type Io } from './io.js';
import { world, type World } from './commands.js';

/** `inferwatch run`: the agent serving /metrics until SIGTERM or SIGINT, reloading on SIGHUP. */
export async function run(
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
  // What the rules' and panels' runbook links read to reach a live agent's /runbooks/.
  agent.exposition.publish(
    [WEB_INFO],
    new Map([[WEB_INFO, [{ labels: { scheme: server.scheme }, value: 1 }]]]),
  );
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
    [config.log_format !== current.config.log_format, 'log_format'],
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
