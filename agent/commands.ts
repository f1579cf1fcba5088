import { Agent } from './agent.js';
import { ADAPTERS } from './collectors/runtimes/adapters/index.js';
import { type AgentConfig } from './config/load.js';
import { systemClock, systemTimers } from './core/clock.js';
import { nodeProcessRunner } from './core/exec.js';
import { selfCommand } from './core/self-command.js';
import { httpClient } from './core/http.js';
import { createLogger, logFormat } from './core/logger.js';
import { evalCommand, evaluationSummary, type EvalCommandOptions } from './eval/command.js';
import { probeCommand } from './probe/command.js';
import { type ProbeModule } from './probe/types.js';
import { VERSION } from './core/version.js';
import { EXIT, type Io } from './io.js';

/** The runtimes the probe leaves alone: where the agent reads them, they serve no generations. */
const NOT_PROBED = ADAPTERS.filter((a) => a.generation.probeApi === undefined)
  .map((a) => ` but ${a.title}`)
  .join(',');

export function world(config: AgentConfig, level = config.log_level) {
  return {
    runner: nodeProcessRunner,
    self: selfCommand(),
    http: httpClient,
    clock: systemClock,
    timers: systemTimers,
    logger: createLogger(level, undefined, logFormat(config.log_format, process.stderr.isTTY)),
  };
}

export type World = ReturnType<typeof world>;

export function startupWaitMs(config: AgentConfig): number {
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

/** probe and eval print no host series: they need not run the host-inventory child. */
function withoutInventory(w: World): Omit<World, 'self'> {
  const { self: _self, ...rest } = w;
  return rest;
}

export async function probe(
  config: AgentConfig,
  options: { target: string | undefined; module: ProbeModule },
  io: Io,
): Promise<number> {
  const w = withoutInventory(world(config, 'error'));
  const agent = new Agent(withoutProbe(config), w);
  return probeCommand(config, agent, w, options, io.out);
}

export async function evaluate(
  config: AgentConfig,
  options: EvalCommandOptions,
  io: Io,
): Promise<number> {
  const w = withoutInventory(world(config, 'error'));
  const agent = new Agent(withoutProbe(config), w);
  return evalCommand(config, agent, w, options, io.out);
}

export async function once(config: AgentConfig, io: Io): Promise<number> {
  const agent = new Agent(withoutProbe(config), world(config));
  try {
    await agent.start();
    await agent.ready(startupWaitMs(config));
    io.out((await agent.metrics()).toString());
    return EXIT.ok;
  } finally {
    await agent.stop();
  }
}

export async function doctor(
  config: AgentConfig,
  file: string | undefined,
  io: Io,
): Promise<number> {
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
      if (status.todo) io.out(`  what to do: ${status.todo}\n`);
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
