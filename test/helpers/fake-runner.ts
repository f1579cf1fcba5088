import type {
  ProcessRunner,
  RunOptions,
  RunResult,
  StreamHandle,
  StreamOptions,
} from '../../agent/core/exec.js';

/** A scripted process runner: one-shot answers from a function, streams driven by the test. */
export class FakeRunner implements ProcessRunner {
  readonly runs: string[][] = [];
  readonly streams: FakeStream[] = [];

  constructor(
    private readonly answer: (args: readonly string[]) => Partial<RunResult> = () => ({}),
  ) {}

  async run(_command: string, args: readonly string[], _options: RunOptions): Promise<RunResult> {
    this.runs.push([...args]);
    return {
      exitCode: 0,
      signal: null,
      stdout: '',
      stderr: '',
      timedOut: false,
      truncated: false,
      ...this.answer(args),
    };
  }

  stream(_command: string, args: readonly string[], options: StreamOptions): StreamHandle {
    const stream = new FakeStream([...args], options);
    this.streams.push(stream);
    return stream;
  }

  get last(): FakeStream {
    const s = this.streams.at(-1);
    if (!s) throw new Error('no stream started');
    return s;
  }
}

export class FakeStream implements StreamHandle {
  readonly pid = 4242;
  stopped = false;

  constructor(
    readonly args: string[],
    private readonly options: StreamOptions,
  ) {}

  line(text: string): void {
    this.options.onLine(text, 'stdout');
  }

  exit(exitCode: number | null = 1): void {
    this.options.onExit({ exitCode, signal: null });
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }
}
