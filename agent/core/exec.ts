import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { setPriority } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { LineSplitter } from './lines.js';

export interface RunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Output beyond maxBytes was cut off and the process killed. */
  readonly truncated: boolean;
}

export interface RunOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  /** The child's nice value (19: the lowest priority): work that must not compete with sampling. */
  readonly niceness?: number;
}

export interface StreamOptions {
  readonly maxLineBytes: number;
  onLine(line: string, from: 'stdout' | 'stderr'): void;
  onOversizeLine(): void;
  onExit(exit: { exitCode: number | null; signal: NodeJS.Signals | null; error?: Error }): void;
}

export interface StreamHandle {
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** The process runner seam: collectors never call child_process themselves. */
export interface ProcessRunner {
  run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult>;
  stream(command: string, args: readonly string[], options: StreamOptions): StreamHandle;
}

/** Thrown when the command is not on PATH (spawn's ENOENT). */
export class CommandNotFound extends Error {
  constructor(readonly command: string) {
    super(`${command}: not found on PATH`);
    this.name = 'CommandNotFound';
  }
}

const KILL_GRACE_MS = 2000;

/** The absolute path `command` runs from, searching PATH as execvp does; undefined if none. */
export function resolveOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : path
        .split(delimiter)
        .filter((dir) => isAbsolute(dir))
        .map((dir) => join(dir, command));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * On Linux, children are started through `setpriv --pdeathsig KILL` (util-linux), so the kernel
 * kills them if the agent dies without a chance to clean up (SIGKILL, OOM kill). Where setpriv
 * is missing or too old, a stream child still dies at its next write to the closed pipe.
 */
function deathSignalWrapper(): readonly string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  const setpriv = resolveOnPath('setpriv');
  if (!setpriv) return undefined;
  const probe = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', 'true'], {
    timeout: 2000,
    stdio: 'ignore',
  });
  return probe.status === 0 ? [setpriv, '--pdeathsig', 'KILL', '--'] : undefined;
}

let wrapper: readonly string[] | undefined | null = null;

/** Resolves the command on PATH (a missing one is CommandNotFound, not a spawn) and wraps it. */
function commandLine(command: string, args: readonly string[]): [string, string[]] {
  const resolved = resolveOnPath(command);
  if (!resolved) throw new CommandNotFound(command);
  if (wrapper === null) wrapper = deathSignalWrapper();
  if (!wrapper) return [resolved, [...args]];
  const [head = resolved, ...rest] = wrapper;
  return [head, [...rest, resolved, ...args]];
}

export const nodeProcessRunner: ProcessRunner = {
  run(command, args, options) {
    return new Promise((resolve, reject) => {
      const [file, argv] = commandLine(command, args);
      const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      if (options.niceness !== undefined && child.pid !== undefined) {
        try {
          setPriority(child.pid, options.niceness);
        } catch {
          // Not permitted or already gone: it runs at the agent's priority.
        }
      }
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let bytes = 0;
      let timedOut = false;
      let truncated = false;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        if (truncated) return;
        bytes += chunk.length;
        if (bytes > options.maxBytes) {
          truncated = true;
          void stopChild(child, KILL_GRACE_MS);
          return;
        }
        into.push(chunk);
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      const timer = setTimeout(() => {
        timedOut = true;
        void stopChild(child, KILL_GRACE_MS);
      }, options.timeoutMs);
      const onAbort = () => void stopChild(child, KILL_GRACE_MS);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      child.once('error', (error: NodeJS.ErrnoException) => {
        settle();
        reject(error.code === 'ENOENT' ? new CommandNotFound(command) : error);
      });
      child.once('close', (exitCode, signal) => {
        settle();
        resolve({
          exitCode,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          timedOut,
          truncated,
        });
      });
    });
  },

  stream(command, args, options) {
    const [file, argv] = commandLine(command, args);
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const splitters = (['stdout', 'stderr'] as const).map((from) => {
      const splitter = new LineSplitter(
        options.maxLineBytes,
        (line) => options.onLine(line, from),
        options.onOversizeLine,
      );
      child[from].setEncoding('utf8');
      child[from].on('data', (chunk: string) => splitter.push(chunk));
      return splitter;
    });
    let exited = false;
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (exited) return;
      exited = true;
      options.onExit({
        exitCode: null,
        signal: null,
        error: error.code === 'ENOENT' ? new CommandNotFound(command) : error,
      });
    });
    child.once('close', (exitCode, signal) => {
      for (const s of splitters) s.end();
      if (exited) return;
      exited = true;
      options.onExit({ exitCode, signal });
    });
    return {
      pid: child.pid,
      stop: (graceMs = KILL_GRACE_MS) => stopChild(child, graceMs),
    };
  },
};

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    // A process stuck in uninterruptible sleep (a wedged driver) ignores even SIGKILL: stop waiting.
    const giveUpTimer = setTimeout(done, graceMs * 2);
    function done(): void {
      clearTimeout(killTimer);
      clearTimeout(giveUpTimer);
      resolve();
    }
    child.once('close', done);
    child.kill('SIGTERM');
  });
}
