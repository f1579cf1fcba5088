import type { Clock, Timers } from '../../core/clock.js';
import {
  CollectorError,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import type { ProcessRunner } from '../../core/exec.js';
import type { Durable } from '../../core/durable.js';
import type { SourceErrors } from '../../core/self-metrics.js';
import { withTodo, type StateLog } from '../../core/state-log.js';
import { StreamSupervisor, type Backoff, type Launch } from '../../core/supervisor.js';
import { Waiters } from '../../core/waiters.js';
import { GPU_REPORTS, type XidTally } from '../../shared/gpu-report.js';
import { OOM_KILL_VICTIMS } from './metrics.js';
import { readerProblem } from '../../shared/log-readers.js';
import { KernelLogAssembler } from './parse.js';

export interface KernelEventsOptions {
  readonly dmesgCommand: string;
  readonly journalctlCommand: string;
  readonly backoff: Backoff;
}

export interface KernelEventsDeps {
  readonly durable: Durable;
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly errors: SourceErrors;
  readonly stateLog: StateLog;
}

type Reader = 'dmesg' | 'journalctl';

const NAME = 'kernel_events';
/** The kernel prints Xid 79 and then "GPU has fallen off the bus": one event, not two. */
const FALLEN_OFF_BUS_DEDUP_MS = 60_000;
/** A reader that has not failed by then is taken to work (a quiet kernel prints nothing). */
const READY_AFTER_MS = 500;

const DENIED = 'the agent may not read the kernel log';

/** What a person can do when the kernel log cannot be read, by the reason. */
function kernelLogTodo(reason: string): string {
  if (reason === 'permission_denied')
    return (
      'give it CAP_SYSLOG (systemd: AmbientCapabilities=CAP_SYSLOG) or run it as root, or set ' +
      'kernel.dmesg_restrict=0; for the journalctl fallback, add its user to the systemd-journal group'
    );
  if (reason === 'not_found')
    return 'install util-linux (dmesg) or systemd (journalctl); until then Xid errors and OOM kills go uncounted';
  return 'run "dmesg --kernel --follow-new" by hand as the agent\'s user; the agent restarts it with backoff';
}

/**
 * Xid errors and OOM-killer victims from the kernel log, followed from the current position by
 * `dmesg --follow-new` (util-linux reads /dev/kmsg and skips the backlog, which Node cannot:
 * it has no lseek, and a blocking read of /dev/kmsg would hold a thread-pool thread forever).
 * Where dmesg may not read, `journalctl --dmesg --follow` takes over. Xid errors go to the GPU
 * view, which names the GPU at each bus and keeps the counter; OOM victims are its own.
 */
export class KernelEventsCollector implements Collector {
  readonly name = NAME;
  readonly metrics = [OOM_KILL_VICTIMS];
  private readonly supervisor: StreamSupervisor;
  /** OOM-killer victims by process name, kept in the durable ledger through a reload. */
  private readonly victims: Map<string, number>;
  private readonly lastXid79 = new Map<string, number>();
  /** Xid events by bus and code since the agent started, kept through a reload. */
  private readonly xids: Map<string, XidTally>;
  /** The UUID the kernel named for a bus. */
  private readonly uuids: Map<string, string>;
  private readonly refused = new Map<Reader, string>();
  private readonly waiters = new Waiters();
  private assembler = new KernelLogAssembler();
  private reading: Reader | undefined;
  private down: { reason: string; detail: string } | undefined;

  constructor(
    private readonly options: KernelEventsOptions,
    private readonly deps: KernelEventsDeps,
  ) {
    this.victims = deps.durable.get(`${NAME}/victims`, () => new Map<string, number>());
    this.xids = deps.durable.get(`${NAME}/xids`, () => new Map<string, XidTally>());
    this.uuids = deps.durable.get(`${NAME}/uuids`, () => new Map<string, string>());
    this.supervisor = new StreamSupervisor(deps.runner, {
      prepare: async () => this.launch(),
      now: () => deps.clock.monotonicMs(),
      timers: deps.timers,
      firstLineMs: Infinity,
      silenceMs: Infinity,
      backoff: options.backoff,
      maxLineBytes: 64 * 1024,
      onLine: (line) => this.onLine(line),
      onOversizeLine: () => undefined,
      onDown: (reason, detail) => this.onDown(reason, detail),
    });
  }

  async start(): Promise<void> {
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
    this.waiters.wakeAll();
  }

  ready(timeoutMs: number): Promise<void> {
    if (this.down) return Promise.resolve();
    return this.waiters.wait(Math.min(timeoutMs, READY_AFTER_MS));
  }

  collect(out: Emitter): void {
    if (!this.reading) {
      const down = this.down ?? { reason: 'starting', detail: 'starting the kernel log reader' };
      const detail = this.down ? withTodo(down.detail, kernelLogTodo(down.reason)) : down.detail;
      throw new CollectorError(down.reason, detail, { counted: true });
    }
    out.report(GPU_REPORTS, {
      reader: 'kernel_log',
      gpus: [],
      xids: [...this.xids.values()],
      uuids: this.uuids,
    });
    for (const [process, value] of this.victims) out.emit(OOM_KILL_VICTIMS, { process }, value);
  }

  status(): SourceStatus {
    if (this.reading) {
      return {
        state: 'ok',
        detail: `following the kernel log with ${this.reading}; ${this.xidEvents()} Xid error(s) since start`,
      };
    }
    if (this.down) {
      const todo = kernelLogTodo(this.down.reason);
      if (this.down.reason === 'permission_denied')
        return { state: 'missing', detail: DENIED, todo };
      return { state: 'failing', detail: `${this.down.reason}: ${this.down.detail}`, todo };
    }
    return { state: 'starting', detail: 'starting the kernel log reader' };
  }

  private launch(): Launch {
    const reader = (['dmesg', 'journalctl'] as const).find((r) => !this.refused.has(r));
    if (!reader) {
      const why = [...this.refused.values()];
      // Try them all again after the backoff: permissions or packages may change.
      this.refused.clear();
      const denied = why.includes('permission_denied');
      throw new CollectorError(
        denied ? 'permission_denied' : 'not_found',
        denied ? DENIED : 'neither dmesg (util-linux) nor journalctl is installed',
      );
    }
    this.reading = reader;
    this.down = undefined;
    if (reader === 'dmesg') {
      return { command: this.options.dmesgCommand, args: ['--kernel', '--follow-new', '--notime'] };
    }
    return {
      command: this.options.journalctlCommand,
      args: ['--dmesg', '--follow', '--lines=0', '--output=cat', '--no-pager'],
    };
  }

  private onLine(line: string): void {
    const problem = readerProblem(line);
    if (problem) {
      if (this.reading) this.refused.set(this.reading, problem);
      this.supervisor.restart(problem, line.trim());
      return;
    }
    const event = this.assembler.push(line);
    if (!event) return;
    const now = this.deps.clock.monotonicMs();
    switch (event.kind) {
      case 'xid':
        if (event.xid === 79) this.lastXid79.set(event.pciBusId, now);
        this.countXid(event.pciBusId, event.xid);
        return;
      case 'fallen_off_bus': {
        const last = this.lastXid79.get(event.pciBusId);
        if (last !== undefined && now - last < FALLEN_OFF_BUS_DEDUP_MS) return;
        this.lastXid79.set(event.pciBusId, now);
        this.countXid(event.pciBusId, 79);
        return;
      }
      case 'gpu_uuid':
        this.uuids.set(event.pciBusId, event.uuid);
        return;
      case 'oom_kill':
        this.victims.set(event.process, (this.victims.get(event.process) ?? 0) + 1);
        return;
    }
  }

  private onDown(reason: string, detail: string): void {
    this.assembler = new KernelLogAssembler();
    if (reason === 'not_found' && this.reading) this.refused.set(this.reading, reason);
    this.reading = undefined;
    this.down = { reason, detail };
    this.deps.errors.count(NAME, reason);
    this.deps.stateLog.failing(NAME, reason, detail, kernelLogTodo(reason));
    this.waiters.wakeAll();
  }

  private countXid(pciBusId: string, xid: number): void {
    const key = `${pciBusId}/${xid}`;
    const events = (this.xids.get(key)?.events ?? 0) + 1;
    this.xids.set(key, { pciBusId, uuid: '', xid, events });
  }

  private xidEvents(): number {
    let sum = 0;
    for (const tally of this.xids.values()) sum += tally.events;
    return sum;
  }
}
