import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../agent/core/logger.js';
import type { TimerHandle, Timers } from '../../agent/core/clock.js';
import { nextRunAt, ProbeScheduler, type ScheduleOptions } from '../../agent/probe/scheduler.js';
import type { Canary, ProbeModule, ProbeResult, ProbeTarget } from '../../agent/probe/types.js';

const quiet = createLogger('error', { write: () => undefined });
const TARGET: ProbeTarget = {
  target: 'a',
  runtime: 'vllm',
  url: 'http://x',
  headers: {},
  api: 'openai-chat',
  apiPinned: false,
  promptTokensCounted: 'all',
  model: undefined,
};
const CANARIES: Canary[] = [
  { name: 'one', prompt: 'p1', expect: /1/ },
  { name: 'two', prompt: 'p2', expect: /2/ },
];

function result(outcome: ProbeResult['outcome'], reason = ''): ProbeResult {
  return { outcome, reason } as ProbeResult;
}

function harness(options: Partial<ScheduleOptions>, answer: (n: number) => Promise<ProbeResult>) {
  const log: string[] = [];
  let runs = 0;
  const scheduler = new ProbeScheduler(
    {
      intervalS: 60,
      jitterRatio: 0,
      canaryEvery: 0,
      canaries: CANARIES,
      backoffMaxS: 300,
      random: () => 0.5,
      ...options,
    },
    (_t, module: ProbeModule, canary) => {
      log.push(
        `${new Date().toISOString().slice(11, 19)} ${module}${canary ? `:${canary.name}` : ''}`,
      );
      return answer(runs++);
    },
    (_t, module, reason) =>
      log.push(`${new Date().toISOString().slice(11, 19)} skip ${module} ${reason}`),
    quiet,
  );
  return { scheduler, log };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-11-22T10:00:00.000Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the probe schedule (fake timers)', () => {
  it('runs each target once per interval at its offset; every Nth run is a canary, in turn', async () => {
    const { scheduler, log } = harness({ canaryEvery: 3 }, async () => result('success'));
    scheduler.sync([TARGET]);
    await vi.advanceTimersByTimeAsync(6 * 60_000);
    await scheduler.stop();
    expect(log).toEqual([
      '10:00:30 latency',
      '10:01:30 latency',
      '10:02:30 canary:one',
      '10:03:30 latency',
      '10:04:30 latency',
      '10:05:30 canary:two',
    ]);
  });

  it('never overlaps: a run still going when the next is due is counted as skipped', async () => {
    let release: () => void = () => undefined;
    const { scheduler, log } = harness({}, (n) =>
      n === 0
        ? new Promise((resolve) => (release = () => resolve(result('success'))))
        : Promise.resolve(result('success')),
    );
    scheduler.sync([TARGET]);
    await vi.advanceTimersByTimeAsync(2 * 60_000 + 1000);
    release();
    await vi.advanceTimersByTimeAsync(60_000);
    await scheduler.stop();
    expect(log).toEqual([
      '10:00:30 latency',
      '10:01:30 skip latency in_flight',
      '10:02:30 latency',
    ]);
  });

  it('backs off after failures, 1, 3, 7 runs left out, capped by backoff_max_s; a success resets it', async () => {
    const { scheduler, log } = harness({ intervalS: 10, backoffMaxS: 40 }, async (n) =>
      n < 4 ? result('failure', 'connect') : result('success'),
    );
    scheduler.sync([TARGET]);
    await vi.advanceTimersByTimeAsync(200_000);
    await scheduler.stop();
    const kinds = log.map((l) => l.slice(9));
    // failures at runs 1-4: wait 0, then 1, then 3, then capped at 40 s / 10 s = 4 runs (3 left out).
    expect(kinds.slice(0, 14)).toEqual([
      'latency',
      'latency',
      'skip latency backoff',
      'latency',
      'skip latency backoff',
      'skip latency backoff',
      'skip latency backoff',
      'latency',
      'skip latency backoff',
      'skip latency backoff',
      'skip latency backoff',
      'latency',
      'latency',
      'latency',
    ]);
  });

  it('a wrong canary answer does not back off', async () => {
    const { scheduler, log } = harness({ canaryEvery: 1 }, async () =>
      result('failure', 'content_mismatch'),
    );
    scheduler.sync([TARGET]);
    await vi.advanceTimersByTimeAsync(3 * 60_000);
    await scheduler.stop();
    expect(log.map((l) => l.slice(9))).toEqual(['canary:one', 'canary:two', 'canary:one']);
  });

  it('jitter delays each run by at most its share of the interval', async () => {
    const { scheduler, log } = harness({ jitterRatio: 0.2 }, async () => result('success'));
    scheduler.sync([TARGET]);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    await scheduler.stop();
    expect(log).toHaveLength(10);
    for (const [i, line] of log.entries()) {
      const [, m, s] = /^10:(\d\d):(\d\d)/.exec(line)!.map(Number);
      const late = (m! - i) * 60 + s! - 30;
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThanOrEqual(12);
    }
  });

  it('a target that goes away stops being probed; one that comes is scheduled', async () => {
    const { scheduler, log } = harness({}, async () => result('success'));
    scheduler.sync([TARGET]);
    await vi.advanceTimersByTimeAsync(60_000);
    scheduler.sync([]);
    await vi.advanceTimersByTimeAsync(3 * 60_000);
    expect(log).toHaveLength(1);
    scheduler.sync([TARGET]);
    await vi.advanceTimersByTimeAsync(60_000);
    await scheduler.stop();
    expect(log).toHaveLength(2);
  });
});

describe('intervals of any length, each target at its place in them', () => {
  it('the next run is the offset into the next interval counted from the epoch', () => {
    const at = Date.parse('2026-11-22T10:00:00.000Z');
    expect(nextRunAt(at, 60_000, 30_000) - at).toBe(30_000);
    expect(nextRunAt(at + 30_000, 60_000, 30_000) - at).toBe(90_000);
    // 45 s and 90 s divide neither a minute nor an hour: a cron schedule could not hold them.
    expect(nextRunAt(at, 45_000, 0) % 45_000).toBe(0);
    expect(nextRunAt(at, 90_000, 10_000) % 90_000).toBe(10_000);
    expect(nextRunAt(at, 90_000, 10_000)).toBeGreaterThan(at);
  });

  it('runs every 45 s and every 90 s, never drifting', async () => {
    for (const intervalS of [45, 90]) {
      const { scheduler, log } = harness({ intervalS }, async () => result('success'));
      scheduler.sync([TARGET]);
      await vi.advanceTimersByTimeAsync(10 * intervalS * 1000);
      await scheduler.stop();
      const times = log.map((l) => Date.parse(`2026-11-22T${l.slice(0, 8)}Z`));
      expect(times).toHaveLength(10);
      for (const [i, t] of times.entries())
        if (i > 0) expect(t - times[i - 1]!).toBe(intervalS * 1000);
    }
  });

  it('takes its time from the injected clock and timers: a test drives it without waiting', async () => {
    let now = Date.parse('2026-11-22T10:00:00.000Z');
    const pending: { at: number; run: () => void; handle: TimerHandle }[] = [];
    const timers: Timers = {
      setTimeout: (run, ms) => {
        const handle = { unref: () => undefined };
        pending.push({ at: now + ms, run, handle });
        return handle;
      },
      clearTimeout: (handle) => {
        const i = pending.findIndex((p) => p.handle === handle);
        if (i >= 0) pending.splice(i, 1);
      },
    };
    const runs: number[] = [];
    const scheduler = new ProbeScheduler(
      {
        intervalS: 90,
        jitterRatio: 0,
        canaryEvery: 0,
        canaries: [],
        backoffMaxS: 300,
        random: () => 0.25,
      },
      async () => {
        runs.push(now);
        return result('success');
      },
      () => undefined,
      quiet,
      { clock: { monotonicMs: () => now, epochMs: () => now }, timers },
    );
    vi.useRealTimers();
    scheduler.sync([TARGET]);
    for (let i = 0; i < 3; i++) {
      pending.sort((a, b) => a.at - b.at);
      const next = pending.shift()!;
      now = next.at;
      next.run();
      // Let the run settle before the next timer (a run still going would be skipped).
      await new Promise((resolve) => setImmediate(resolve));
    }
    await scheduler.stop();
    expect(pending).toEqual([]);
    expect(runs.map((t) => new Date(t).toISOString().slice(11, 19))).toEqual([
      '10:00:22',
      '10:01:52',
      '10:03:22',
    ]);
  });
});
