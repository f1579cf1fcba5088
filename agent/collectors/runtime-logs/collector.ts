import { every } from '../../core/clock.js';
import { basename } from 'node:path';
import {
  CollectorError,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import { FileFollower } from '../../core/file-follower.js';
import type { CollectorDeps } from '../../shared/collector-factory.js';
import { StreamSupervisor, type Backoff } from '../../core/supervisor.js';
import { readerProblem } from '../../shared/log-readers.js';
import { CUDA_OOM_EVENTS } from './metrics.js';
import { isCudaOom } from './parse.js';

export interface LogSource {
  readonly runtime: string;
  readonly target?: string | undefined;
  readonly path?: string | undefined;
  readonly journaldUnit?: string | undefined;
}

export interface RuntimeLogsOptions {
  readonly sources: readonly LogSource[];
  readonly pollIntervalMs: number;
  readonly journalctlCommand: string;
  readonly backoff: Backoff;
}

const NAME = 'runtime_logs';
/** One OOM prints its message more than once (the worker, then the API server re-raising it). */
const BURST_MS = 2000;
const MAX_LINE_BYTES = 64 * 1024;
/** Read per file per poll at most; a burst larger than this waits for the next poll. */
const MAX_READ_BYTES = 4 * 1024 * 1024;
const HUNG_POLL_MS = 10_000;

/** What a person can do about a runtime log the agent cannot follow. */
function logTodo(f: Followed, reason?: string): string {
  if (reason === 'timeout')
    return 'its storage does not answer (a network mount?); the other logs are read meanwhile';
  if (f.journal)
    return "check the unit in collectors.runtime_logs.sources, and that the agent's user is in the systemd-journal group";
  return "check the path in collectors.runtime_logs.sources, and that the agent's user may read it (the adm group reads /var/log)";
}

interface Followed {
  readonly runtime: string;
  readonly target: string;
  /** Its count lives in the durable ledger, keyed so: it carries on through a reload. */
  readonly key: string;
  lastMatchAt: number;
  problem: string | undefined;
  file?: FileFollower;
  journal?: StreamSupervisor;
}

/**
 * CUDA out-of-memory errors from runtimes' logs: files followed across rotation and
 * truncation, and journald units through `journalctl -u UNIT --follow`. A matching line is
 * classified and counted; its text is never exported or logged.
 */
export class RuntimeLogsCollector implements Collector {
  readonly name = NAME;
  readonly metrics = [CUDA_OOM_EVENTS];
  private readonly followed: Followed[];
  private readonly counts: Map<string, number>;
  private stopPolling: (() => void) | undefined;
  /** When the poll in progress started; undefined when none is. */
  private pollStartedAt: number | undefined;

  constructor(
    private readonly options: RuntimeLogsOptions,
    private readonly deps: CollectorDeps,
  ) {
    this.counts = deps.durable.get(`${NAME}/counts`, () => new Map<string, number>());
    this.followed = options.sources.map((source) => this.follow(source));
  }

  async start(): Promise<void> {
    await this.pollFiles();
    this.stopPolling = every(this.deps.timers, this.options.pollIntervalMs, () => {
      void this.pollFiles();
    });
    for (const f of this.followed) f.journal?.start();
  }

  async stop(): Promise<void> {
    this.stopPolling?.();
    await Promise.all(this.followed.map((f) => f.journal?.stop() ?? f.file?.close()));
  }

  collect(out: Emitter): void {
    this.checkHungPoll();
    const failing = this.followed.filter((f) => f.problem);
    if (failing.length === this.followed.length) {
      throw new CollectorError('read_failed', failing.map((f) => f.problem).join('; '), {
        counted: true,
      });
    }
    for (const f of this.followed) {
      // A log that cannot be read gives no series: 0 would claim there was no OOM.
      if (!f.problem)
        out.emit(
          CUDA_OOM_EVENTS,
          { runtime: f.runtime, target: f.target },
          this.counts.get(f.key) ?? 0,
        );
    }
    if (failing.length > 0) out.degrade('read_failed', failing.map((f) => f.problem).join('; '));
  }

  status(): SourceStatus {
    const failing = this.followed.filter((f) => f.problem);
    if (failing.length > 0) {
      return {
        state: 'failing',
        detail: failing.map((f) => `${f.target}: ${f.problem}`).join('; '),
        todo: [...new Set(failing.map((f) => logTodo(f)))].join('; '),
      };
    }
    return {
      state: 'ok',
      detail: `following ${this.followed.map((f) => `${f.runtime} ${f.target}`).join(', ')}`,
    };
  }

  private follow(source: LogSource): Followed {
    const target = source.target ?? source.journaldUnit ?? basename(source.path ?? '');
    const f: Followed = {
      runtime: source.runtime,
      target,
      key: `${source.runtime}\u0000${target}`,
      lastMatchAt: -Infinity,
      problem: undefined,
    };
    const onOversizeLine = () => this.deps.errors.count(NAME, 'bad_line');
    if (source.path) {
      f.file = new FileFollower({
        path: source.path,
        // A reload's new follower reads what was appended while the old one stopped.
        position: this.deps.durable.get(`${NAME}/position/${source.path}`, () => ({
          inode: undefined,
          offset: 0,
        })),
        maxLineBytes: MAX_LINE_BYTES,
        maxReadBytes: MAX_READ_BYTES,
        onLine: (line) => this.onLine(f, line),
        onOversizeLine,
      });
    } else if (source.journaldUnit) {
      const unit = source.journaldUnit;
      f.journal = new StreamSupervisor(this.deps.runner, {
        now: () => this.deps.clock.monotonicMs(),
        timers: this.deps.timers,
        prepare: async () => {
          this.setProblem(f, undefined, 'read_failed');
          return {
            command: this.options.journalctlCommand,
            args: ['--unit', unit, '--follow', '--lines=0', '--output=cat', '--no-pager'],
          };
        },
        firstLineMs: Infinity,
        silenceMs: Infinity,
        backoff: this.options.backoff,
        maxLineBytes: MAX_LINE_BYTES,
        onLine: (line) => {
          const problem = readerProblem(line);
          if (problem) f.journal?.restart(problem, line.trim());
          else this.onLine(f, line);
        },
        onOversizeLine,
        onDown: (reason, detail) => this.setProblem(f, `${reason}: ${detail}`, reason),
      });
    }
    return f;
  }

  private onLine(f: Followed, line: string): void {
    if (!isCudaOom(line)) return;
    const now = this.deps.clock.monotonicMs();
    if (now - f.lastMatchAt >= BURST_MS) this.counts.set(f.key, (this.counts.get(f.key) ?? 0) + 1);
    f.lastMatchAt = now;
  }

  private async pollFiles(): Promise<void> {
    if (this.pollStartedAt !== undefined) return;
    this.pollStartedAt = this.deps.clock.monotonicMs();
    try {
      for (const f of this.followed) {
        if (!f.file) continue;
        const state = await f.file.poll();
        this.setProblem(f, state.ok ? undefined : state.error, 'read_failed');
      }
    } finally {
      this.pollStartedAt = undefined;
    }
  }

  /** A read that never returns (a dead network mount) must not pass for a quiet log. */
  private checkHungPoll(): void {
    if (this.pollStartedAt === undefined) return;
    const limit = Math.max(HUNG_POLL_MS, 5 * this.options.pollIntervalMs);
    const age = this.deps.clock.monotonicMs() - this.pollStartedAt;
    if (age <= limit) return;
    for (const f of this.followed) {
      if (f.file)
        this.setProblem(f, `reading the log has hung for ${Math.round(age)} ms`, 'timeout');
    }
  }

  private setProblem(f: Followed, problem: string | undefined, reason: string): void {
    if (problem && f.problem !== problem) {
      this.deps.errors.count(NAME, reason);
      this.deps.stateLog.failing(`${NAME}/${f.target}`, reason, problem, logTodo(f, reason));
    } else if (!problem && f.problem) {
      this.deps.stateLog.ok(`${NAME}/${f.target}`);
    }
    f.problem = problem;
  }
}
