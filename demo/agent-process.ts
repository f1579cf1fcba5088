import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const child = spawn(process.execPath, [MAIN, 'run', '--config', configFile, '--listen', listen], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...node.agentEnv() },
  });
  const address = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(
      () => reject(new Error(`the agent did not start in 20 s; see ${logFile}`)),
      20_000,
    );
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      log.write(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const listenAt = started(line);
        if (listenAt) {
          clearTimeout(timer);
          resolve(listenAt);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited with ${code}; see ${logFile}`));
    });
  });
  return { address, logFile, stop: () => stop(child) };
}

function started(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; listen?: unknown };
    return entry.msg === 'inferwatch started' ? String(entry.listen) : undefined;
  } catch {
    return undefined;
  }
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
