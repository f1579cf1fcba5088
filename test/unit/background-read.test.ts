import { describe, expect, it } from 'vitest';
import { BackgroundRead } from '../../agent/core/background-read.js';
import { ManualTimers } from '../helpers/manual-timers.js';

/** A source whose reads the test answers by hand. */
function source() {
  const pending: {
    resolve: (v: string) => void;
    reject: (e: unknown) => void;
    signal: AbortSignal;
  }[] = [];
  const timers = new ManualTimers(1_000_000);
  const missed = { count: 0 };
  const reader = new BackgroundRead(
    (signal) =>
      new Promise<string>((resolve, reject) => {
        pending.push({ resolve, reject, signal });
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
    {
      clock: timers,
      timers,
      timeoutMs: 60_000,
      missed: () => missed.count++,
    },
  );
  return { reader, pending, missed, timers, tick: (ms: number) => void timers.advance(ms) };
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
      { clock: new ManualTimers(0), timers: new ManualTimers(0), timeoutMs: 20 },
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

  describe('forScrape', () => {
    const never = () => new AbortController().signal;

    /** The first scrape, which waits for the first read: answered `value`; true when in time. */
    async function firstScrape(
      { reader, pending }: ReturnType<typeof source>,
      value: string,
    ): Promise<boolean> {
      const first = reader.forScrape(never());
      await flush();
      pending[0]!.resolve(value);
      return first;
    }

    /** A scrape at the present time; the reads it leaves running stay pending. */
    async function scrape(reader: BackgroundRead<string>): Promise<boolean> {
      const served = reader.forScrape(never());
      await flush();
      return served;
    }

    it('waits for the first read only; later scrapes serve what is known without waiting', async () => {
      const s = source();
      const { reader, pending } = s;
      expect(await firstScrape(s, 'v1')).toBe(true);
      // Back to back: the read is a second old at most, so none is started, and none waited for.
      expect(await scrape(reader)).toBe(true);
      expect(pending).toHaveLength(1);
    });

    it('reads ahead of the next scrape: the read starts 250 ms, or twice the last read, before the scrape is due', async () => {
      const s = source();
      const { reader, pending, timers } = s;
      await firstScrape(s, '0 s');
      // After one scrape, the next is expected after Prometheus's default 15 s.
      await timers.advance(14_749);
      expect(pending).toHaveLength(1);
      await timers.advance(1);
      expect(pending).toHaveLength(2);
      await timers.advance(200);
      pending[1]!.resolve('14.95 s');
      await flush();
      await timers.advance(50);
      expect(await scrape(reader)).toBe(true);
      expect(reader.last).toMatchObject({ value: '14.95 s', atEpochMs: 1_000_000 + 14_950 });
      // A read of 200 ms: the next one starts twice that before the scrape at 30 s.
      await timers.advance(14_599);
      expect(pending).toHaveLength(2);
      await timers.advance(1);
      expect(pending).toHaveLength(3);
      pending[2]!.resolve('29.6 s');
      await timers.advance(400);
      expect(await scrape(reader)).toBe(true);
      expect(reader.last?.value).toBe('29.6 s');
      // One read an interval.
      expect(pending).toHaveLength(3);
    });

    it('nobody scraping, nothing is read past the one read ahead', async () => {
      const s = source();
      const { reader, pending, timers } = s;
      await firstScrape(s, 'v');
      await timers.advance(10_000);
      await scrape(reader);
      await timers.advance(10_000);
      expect(pending).toHaveLength(2);
      pending[1]!.resolve('ahead');
      await timers.advance(600_000);
      expect(pending).toHaveLength(2);
    });

    it('two Prometheus servers scraping at different offsets: the shorter gap', async () => {
      const s = source();
      const { reader, pending, timers } = s;
      await firstScrape(s, 'v');
      await timers.advance(4_000);
      await scrape(reader); // the other server, 4 s after
      await timers.advance(11_000);
      expect(pending).toHaveLength(2); // read ahead for 4 s on, as the one gap known said
      pending[1]!.resolve('v');
      await scrape(reader); // the first again, 15 s after its last
      // Gaps 4 s and 11 s: the read ahead is for 4 s on, in time for the other server.
      await timers.advance(3_749);
      expect(pending).toHaveLength(2);
      await timers.advance(1);
      expect(pending).toHaveLength(3);
    });

    it('scrapers back to back share one read a second', async () => {
      const s = source();
      const { reader, pending, timers } = s;
      await firstScrape(s, 'v');
      for (let i = 0; i < 100; i++) {
        await timers.advance(25);
        expect(await scrape(reader)).toBe(true);
        if (pending.length > 1 && pending.at(-1)!.signal.aborted === false)
          pending.at(-1)!.resolve(`read ${pending.length}`);
      }
      // 2.5 s of scrapes every 25 ms: a read at 1 s and at 2 s, besides the first.
      expect(pending).toHaveLength(3);
    });

    it('a read running since before the previous scrape, for over a second, is behind: said once, until a read succeeds', async () => {
      const s = source();
      const { reader, pending, timers, missed } = s;
      await firstScrape(s, 'v1');
      await timers.advance(14_750); // the read ahead starts, and hangs
      expect(pending).toHaveLength(2);
      await timers.advance(250);
      // Started after the previous scrape: this scrape serves what it had, not behind yet.
      expect(await scrape(reader)).toBe(true);
      await timers.advance(15_000);
      expect(await scrape(reader)).toBe(false);
      await timers.advance(15_000);
      expect(await scrape(reader)).toBe(false);
      expect(missed.count).toBe(1);
      expect(reader.last?.value).toBe('v1');
      pending[1]!.resolve('v2');
      await flush();
      await timers.advance(15_000);
      expect(await scrape(reader)).toBe(true);
    });
  });
});
