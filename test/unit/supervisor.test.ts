import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CollectorError } from '../../agent/core/collector.js';
import { StreamSupervisor, type SupervisorOptions } from '../../agent/core/supervisor.js';
import { FakeRunner } from '../helpers/fake-runner.js';

function supervisor(overrides: Partial<SupervisorOptions> = {}) {
  const runner = new FakeRunner();
  const downs: string[] = [];
  const lines: string[] = [];
  const s = new StreamSupervisor(runner, {
    prepare: async () => ({ command: 'tool', args: ['--go'] }),
    firstLineMs: 5000,
    silenceMs: 1000,
    backoff: { initialMs: 100, maxMs: 800 },
    maxLineBytes: 1024,
    onLine: (line) => lines.push(line),
    onOversizeLine: () => undefined,
    onDown: (reason) => downs.push(reason),
    ...overrides,
  });
  return { s, runner, downs, lines };
}

describe('StreamSupervisor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('restarts an exiting process with exponential backoff, capped', async () => {
    const { s, runner, downs } = supervisor();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.streams).toHaveLength(1);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      runner.last.exit(1);
      const before = runner.streams.length;
      let waited = 0;
      while (runner.streams.length === before) {
        await vi.advanceTimersByTimeAsync(50);
        waited += 50;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([100, 200, 400, 800, 800]);
    expect(downs).toEqual(['exited', 'exited', 'exited', 'exited', 'exited']);
  });

  it('a stream that stayed healthy for stableAfterMs resets the backoff', async () => {
    const { s, runner } = supervisor({ stableAfterMs: 5000, now: () => Date.now() });
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    runner.last.exit();
    await vi.advanceTimersByTimeAsync(100);
    runner.last.exit();
    await vi.advanceTimersByTimeAsync(200);
    s.markHealthy();
    await vi.advanceTimersByTimeAsync(5000);
    runner.last.exit();
    await vi.advanceTimersByTimeAsync(100);
    expect(runner.streams).toHaveLength(4);
  });

  it('a crash loop that prints one good sample before each exit still backs off', async () => {
    const { s, runner } = supervisor({
      stableAfterMs: 5000,
      now: () => Date.now(),
      backoff: { initialMs: 1000, maxMs: 60_000 },
    });
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    // 90 s of a tool that prints one good sample and exits at once, every time.
    let handled = 0;
    const end = Date.now() + 90_000;
    while (Date.now() < end) {
      while (handled < runner.streams.length) {
        handled++;
        s.markHealthy();
        runner.last.exit(1);
      }
      await vi.advanceTimersByTimeAsync(100);
    }
    // Starts at 0, 1, 3, 7, 15, 31 and 63 s: 7, not the 87 of a backoff reset by each sample.
    expect(runner.streams).toHaveLength(7);
  });

  it('kills a process that falls silent and starts another', async () => {
    const { s, runner, downs, lines } = supervisor();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = runner.last;
    first.line('a');
    await vi.advanceTimersByTimeAsync(900);
    first.line('b');
    await vi.advanceTimersByTimeAsync(900);
    expect(downs).toEqual([]);
    await vi.advanceTimersByTimeAsync(101);
    expect(downs).toEqual(['silent']);
    expect(first.stopped).toBe(true);
    // Lines from the killed process no longer count.
    first.line('late');
    expect(lines).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(100);
    expect(runner.streams).toHaveLength(2);
  });

  it('gives a new process firstLineMs before the watchdog applies', async () => {
    const { s, downs } = supervisor();
    s.start();
    await vi.advanceTimersByTimeAsync(4999);
    expect(downs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(downs).toEqual(['silent']);
  });

  it('a failing prepare is retried with backoff and reports its reason', async () => {
    let calls = 0;
    const { s, runner, downs } = supervisor({
      prepare: async () => {
        calls++;
        if (calls < 3) throw new CollectorError('unsupported', 'no');
        return { command: 'tool', args: [] };
      },
    });
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(200);
    expect(downs).toEqual(['unsupported', 'unsupported']);
    expect(runner.streams).toHaveLength(1);
  });

  it('stop kills the process and ends the restarts', async () => {
    const { s, runner } = supervisor();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = runner.last;
    await s.stop();
    expect(first.stopped).toBe(true);
    first.exit();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runner.streams).toHaveLength(1);
    expect(s.state).toBe('stopped');
  });
});
