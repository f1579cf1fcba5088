import { describe, expect, it } from 'vitest';
import { BackgroundRead } from '../../agent/core/background-read.js';

/** A source whose reads the test answers by hand. */
function source() {
  const pending: {
    resolve: (v: string) => void;
    reject: (e: unknown) => void;
    signal: AbortSignal;
  }[] = [];
  let now = 0;
  const missed = { count: 0 };
  const reader = new BackgroundRead(
    (signal) =>
      new Promise<string>((resolve, reject) => {
        pending.push({ resolve, reject, signal });
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
    {
      clock: { monotonicMs: () => now, epochMs: () => 1_000_000 + now },
      timeoutMs: 60_000,
      missed: () => missed.count++,
    },
  );
  return { reader, pending, missed, tick: (ms: number) => (now += ms) };
}

const handedOver = () => AbortSignal.abort();
const flush = () => new Promise((r) => setImmediate(r));

describe('BackgroundRead', () => {
  it('one read at a time: scrapes that come while it runs share it', async () => {
    const { reader, pending } = source();
    const first = new AbortController();
    const second = new AbortController();
    const a = reader.refresh(first.signal);
    const b = reader.refresh(second.signal);
    await flush();
    expect(pending).toHaveLength(1);
    pending[0]!.resolve('v1');
    expect(await a).toBe(true);
    expect(await b).toBe(true);
    expect(reader.last?.value).toBe('v1');
  });

  it('a scrape waits until its hand-over, then goes on; the read ends in the background for the next', async () => {
    const { reader, pending, tick } = source();
    const wait = new AbortController();
    const waiting = reader.refresh(wait.signal);
    await flush();
    tick(500);
    wait.abort();
    expect(await waiting).toBe(false);
    expect(reader.runningForMs()).toBe(500);
    pending[0]!.resolve('late');
    await flush();
    expect(reader.last).toMatchObject({ value: 'late', atEpochMs: 1_000_500 });
    expect(reader.runningForMs()).toBeUndefined();
  });

  it('a source that outlasted a wait is not waited for again until a read succeeds: a hung source costs one scrape its wait, not every scrape', async () => {
    const { reader, pending, missed } = source();
    const first = new AbortController();
    const waiting = reader.refresh(first.signal);
    first.abort();
    expect(await waiting).toBe(false);
    // The next scrapes: no wait at all (their signal never fires), and no second read.
    const never = new AbortController().signal;
    expect(await reader.refresh(never)).toBe(false);
    expect(await reader.refresh(never)).toBe(false);
    await flush();
    expect(pending).toHaveLength(1);
    // Three scrapes went without the one read: said once.
    expect(missed.count).toBe(1);
    // It fails (a timeout, say): a new read starts, still not waited for.
    pending[0]!.reject(new Error('timeout'));
    await flush();
    expect(reader.failure?.error).toEqual(new Error('timeout'));
    expect(await reader.refresh(never)).toBe(false);
    await flush();
    expect(pending).toHaveLength(2);
    expect(missed.count).toBe(2);
    // It answers: the scrapes wait for it again.
    pending[1]!.resolve('back');
    await flush();
    expect(reader.failure).toBeUndefined();
    const next = reader.refresh(never);
    await flush();
    expect(pending).toHaveLength(3);
    pending[2]!.resolve('fresh');
    expect(await next).toBe(true);
    expect(missed.count).toBe(2);
    expect(reader.last?.value).toBe('fresh');
  });

  it('a read past its own timeout is aborted and counts as failed; stop aborts the one in progress', async () => {
    let signalOf: AbortSignal | undefined;
    const hung = new BackgroundRead(
      (signal) =>
        new Promise<string>((_, reject) => {
          signalOf = signal;
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        }),
      { clock: { monotonicMs: () => 0, epochMs: () => 0 }, timeoutMs: 20 },
    );
    // Waited for to the end: it ends by its timeout, as a failure.
    expect(await hung.refresh(new AbortController().signal)).toBe(true);
    expect(signalOf?.aborted).toBe(true);
    expect(hung.failure).toBeDefined();
    expect(hung.last).toBeUndefined();

    const { reader, pending } = source();
    void reader.refresh(handedOver());
    await flush();
    reader.stop();
    await flush();
    expect(pending[0]!.signal.aborted).toBe(true);
    expect(reader.failure).toBeDefined();
  });
});
