import { CommandNotFound, type ProcessRunner, type StreamHandle } from './exec.js';
import { systemTimers, type TimerHandle, type Timers } from './clock.js';
import { CollectorError } from './collector.js';

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** What to start: the command and its arguments. */
export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
}

export interface SupervisorOptions {
  /** Runs before every start (a field check, say) and says what to start; may throw. */
  prepare(signal: AbortSignal): Promise<Launch>;
  /** Time allowed for the first line after a start. */
  readonly firstLineMs: number;
  /** No line for this long means the process is wedged: it is killed and restarted. Infinity: no watchdog. */
  readonly silenceMs: number;
  readonly backoff: Backoff;
  /**
   * A stream that has given good data and then stayed up this long has proved itself: its next
   * failure starts the backoff from the initial delay again. (Not the first good line: a tool
   * that prints one sample and exits would restart at the initial delay for ever.)
   */
  readonly stableAfterMs?: number;
  /** Monotonic milliseconds (injected in tests). */
  readonly now?: () => number;
  /** The watchdog's and the backoff's timers (injected with the clock; the system's by default). */
  readonly timers?: Timers;
  readonly maxLineBytes: number;
  onLine(line: string, from: 'stdout' | 'stderr'): void;
  onOversizeLine(): void;
  /** The stream went down: data from it must be dropped now. */
  onDown(reason: string, detail: string): void;
}

export type SupervisorState = 'idle' | 'preparing' | 'running' | 'backoff' | 'stopped';

const DEFAULT_STABLE_AFTER_MS = 30_000;

/**
 * Keeps one long-lived process running: restarts it with exponential backoff when it exits,
 * when `prepare` fails, or when it falls silent (the watchdog), and never leaves it behind.
 */
export class StreamSupervisor {
  private handle: StreamHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private prepareAbort: AbortController | undefined;
  private failures = 0;
  /** When the running process first gave good data; undefined until it has. */
  private healthySince: number | undefined;
  private generation = 0;
  private _state: SupervisorState = 'idle';

  constructor(
    private readonly runner: ProcessRunner,
    private readonly options: SupervisorOptions,
  ) {}

  get state(): SupervisorState {
    return this._state;
  }

  start(): void {
    if (this._state !== 'idle') return;
    void this.launch();
  }

  /** The data proved good. Once it has stayed good for stableAfterMs, the backoff resets. */
  markHealthy(): void {
    this.healthySince ??= this.now();
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }

  private get timers(): Timers {
    return this.options.timers ?? systemTimers;
  }

  private clear(timer: TimerHandle | undefined): void {
    if (timer) this.timers.clearTimeout(timer);
  }

  /** Kills the running process and starts a new one after the backoff delay. */
  restart(reason: string, detail: string): void {
    if (this._state !== 'running') return;
    this.fail(reason, detail);
  }

  async stop(): Promise<void> {
    this._state = 'stopped';
    this.generation++;
    this.clear(this.watchdog);
    this.clear(this.retryTimer);
    this.prepareAbort?.abort();
    const handle = this.handle;
    this.handle = undefined;
    await handle?.stop();
  }

  private async launch(): Promise<void> {
    const generation = ++this.generation;
    this._state = 'preparing';
    this.prepareAbort = new AbortController();
    let launch: Launch;
    try {
      launch = await this.options.prepare(this.prepareAbort.signal);
    } catch (error) {
      if (generation !== this.generation) return;
      const reason =
        error instanceof CollectorError
          ? error.reason
          : error instanceof CommandNotFound
            ? 'not_found'
            : 'start_failed';
      this.fail(reason, error instanceof Error ? error.message : String(error));
      return;
    }
    if (generation !== this.generation) return;
    this._state = 'running';
    this.healthySince = undefined;
    try {
      this.handle = this.spawn(generation, launch);
    } catch (error) {
      if (error instanceof CommandNotFound) this.fail('not_found', error.message);
      else this.fail('start_failed', error instanceof Error ? error.message : String(error));
      return;
    }
    this.armWatchdog(generation, this.options.firstLineMs);
  }

  private spawn(generation: number, { command, args }: Launch): StreamHandle {
    return this.runner.stream(command, args, {
      maxLineBytes: this.options.maxLineBytes,
      onLine: (line, from) => {
        if (generation !== this.generation) return;
        this.armWatchdog(generation, this.options.silenceMs);
        this.options.onLine(line, from);
      },
      onOversizeLine: () => {
        if (generation === this.generation) this.options.onOversizeLine();
      },
      onExit: ({ exitCode, signal, error }) => {
        if (generation !== this.generation) return;
        this.handle = undefined;
        if (error instanceof CommandNotFound) this.fail('not_found', error.message);
        else if (error) this.fail('start_failed', error.message);
        else this.fail('exited', `exited with ${signal ? `signal ${signal}` : `code ${exitCode}`}`);
      },
    });
  }

  private armWatchdog(generation: number, ms: number): void {
    this.clear(this.watchdog);
    if (!Number.isFinite(ms)) return;
    this.watchdog = this.timers.setTimeout(() => {
      if (generation !== this.generation) return;
      this.fail('silent', `no output for ${ms} ms`);
    }, ms);
  }

  private fail(reason: string, detail: string): void {
    this.generation++;
    this.clear(this.watchdog);
    const handle = this.handle;
    this.handle = undefined;
    void handle?.stop();
    this.options.onDown(reason, detail);
    if (this._state === 'stopped') return;
    const stableAfter = this.options.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS;
    if (this.healthySince !== undefined && this.now() - this.healthySince >= stableAfter)
      this.failures = 0;
    this.healthySince = undefined;
    this.failures++;
    const delay = Math.min(
      this.options.backoff.maxMs,
      this.options.backoff.initialMs * 2 ** (this.failures - 1),
    );
    this._state = 'backoff';
    this.retryTimer = this.timers.setTimeout(() => void this.launch(), delay);
  }
}
