import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { untilServing } from './ready.js';
import type { SimulatedNode } from './sim/node.js';
import { ROOT } from './sim/node.js';

const MAIN = join(ROOT, 'dist/agent/main.js');

export interface RunningAgent {
  /** host:port of its /metrics. */
  readonly address: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts the built agent (dist/agent/main.js run) on a simulated node, with the node's config
 * and environment, and resolves once it serves. Its JSON log goes to agent.log in the node's
 * directory.
 */
export async function startAgent(
  node: SimulatedNode,
  listen = '127.0.0.1:0',
): Promise<RunningAgent> {
  const configFile = join(node.dir, 'agent.yaml');
  const logFile = join(node.dir, 'agent.log');
  writeFileSync(configFile, node.agentConfig());
  const log = createWriteStream(logFile);
  const readyFile = join(node.dir, 'agent.ready');
  const child = spawn(
    process.execPath,
    [MAIN, 'run', '--config', configFile, '--listen', listen, '--ready-file', readyFile],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...node.agentEnv() },
    },
  );
  child.stderr.pipe(log);
  // An incident that changes the node's config (its budget cut) reaches the agent as an
  // operator's would: the file rewritten, then SIGHUP.
  node.reconfigure = () => {
    writeFileSync(configFile, node.agentConfig());
    child.kill('SIGHUP');
  };
  const address = await untilServing(child, readyFile, 20_000, () => `; see ${logFile}`);
  return { address, logFile, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
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
