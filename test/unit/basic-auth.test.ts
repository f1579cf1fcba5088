import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BasicAuth, WorkerBcrypt, type Bcrypt } from '../../agent/server/basic-auth.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A bcrypt whose verdicts the test controls: each check waits until released. */
class HeldBcrypt implements Bcrypt {
  readonly verified: { password: string; hash: string }[] = [];
  readonly hashedAtCost: number[] = [];
  private readonly held: (() => void)[] = [];
  hold = false;

  constructor(private readonly passwords: ReadonlyMap<string, string>) {}

  async verify(password: string, hash: string): Promise<boolean> {
    this.verified.push({ password, hash });
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    return this.passwords.get(hash) === password;
  }

  async hash(_password: string, cost: number): Promise<string> {
    this.hashedAtCost.push(cost);
    return `$2b$${cost}$decoy`;
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }

  async close(): Promise<void> {}
}

const USERS = new Map([
  ['prometheus', '$2b$12$prometheus'],
  ['grafana', '$2b$12$grafana'],
  ['old', '$2b$10$old'],
]);
const PASSWORDS = new Map([
  ['$2b$12$prometheus', 'right'],
  ['$2b$12$grafana', 'other'],
  ['$2b$10$old', 'x'],
]);

function setup(options: { maxPending?: number; failuresPerMinute?: number } = {}) {
  const fake = new HeldBcrypt(PASSWORDS);
  let now = 0;
  const auth = new BasicAuth(USERS, fake, { ...options, now: () => now });
  return { auth, fake, tick: (ms: number) => (now += ms) };
}

describe('BasicAuth', () => {
  it('caches verdicts: a scraper logging in every scrape costs one bcrypt, a repeated wrong password one', async () => {
    const { auth, fake } = setup();
    for (let i = 0; i < 50; i++)
      expect(await auth.check(basic('prometheus', 'right'), '10.0.0.1')).toBe('ok');
    for (let i = 0; i < 5; i++)
      expect(await auth.check(basic('prometheus', 'wrong'), '10.0.0.2')).toBe('denied');
    expect(fake.verified).toHaveLength(2);
  });

  it("a known and an unknown user take the same path: one bcrypt each, the unknown one against a decoy of the users' cost", async () => {
    const { auth, fake } = setup();
    expect(await auth.check(basic('prometheus', 'guess'), 'a')).toBe('denied');
    expect(await auth.check(basic('nobody', 'guess'), 'a')).toBe('denied');
    expect(fake.verified).toHaveLength(2);
    expect(fake.verified[1]?.hash).toBe('$2b$12$decoy');
    // Two users of three have cost 12: the decoy has it too.
    expect(fake.hashedAtCost).toEqual([12]);
    // The decoy never lets anyone in, whatever it would verify.
    expect(await auth.check(basic('nobody', 'anything'), 'b')).toBe('denied');
  });

  it('bounds checks waiting for bcrypt: past 16, turned away (throttled) without checking; a cached login still gets in', async () => {
    const { auth, fake } = setup({ failuresPerMinute: 1000 });
    expect(await auth.check(basic('prometheus', 'right'), 'prom')).toBe('ok');
    fake.hold = true;
    const waiting = Array.from({ length: 16 }, (_, i) =>
      auth.check(basic('prometheus', `wrong-${i}`), `attacker-${i}`),
    );
    expect(await auth.check(basic('prometheus', 'wrong-17'), 'attacker-17')).toBe('throttled');
    expect(await auth.check(basic('prometheus', 'right'), 'prom')).toBe('ok');
    expect(fake.verified).toHaveLength(1 + 16);
    fake.release();
    expect(new Set(await Promise.all(waiting))).toEqual(new Set(['denied']));
    // Room again once they are done.
    fake.hold = false;
    expect(await auth.check(basic('grafana', 'other'), 'graf')).toBe('ok');
  });

  it('one client address may cause 30 failed checks a minute; others are not held back; a minute later it may try again', async () => {
    const { auth, tick } = setup();
    for (let i = 0; i < 30; i++)
      expect(await auth.check(basic('prometheus', `guess-${i}`), '10.9.9.9')).toBe('denied');
    expect(await auth.check(basic('prometheus', 'guess-30'), '10.9.9.9')).toBe('throttled');
    // A wrong password it already tried is answered from the cache: denied, not a new check.
    expect(await auth.check(basic('prometheus', 'guess-3'), '10.9.9.9')).toBe('denied');
    expect(await auth.check(basic('prometheus', 'right'), '10.0.0.1')).toBe('ok');
    tick(60_001);
    expect(await auth.check(basic('prometheus', 'guess-31'), '10.9.9.9')).toBe('denied');
  });

  it("a flood of distinct wrong passwords cannot push a scraper's login out of the cache", async () => {
    const { auth, fake } = setup({ failuresPerMinute: 100_000 });
    expect(await auth.check(basic('prometheus', 'right'), 'prom')).toBe('ok');
    for (let i = 0; i < 3000; i++) await auth.check(basic('prometheus', `flood-${i}`), `c${i}`);
    const before = fake.verified.length;
    expect(await auth.check(basic('prometheus', 'right'), 'prom')).toBe('ok');
    expect(fake.verified.length).toBe(before);
  });

  it('refuses what is not basic credentials, and never keeps a password in the cache', async () => {
    const { auth, fake } = setup();
    for (const header of [undefined, '', 'Bearer x', 'Basic !!!', `Basic ${'A'.repeat(5000)}`])
      expect(await auth.check(header, 'c')).toBe('denied');
    expect(await auth.check(`Basic ${Buffer.from('nocolon').toString('base64')}`, 'c')).toBe(
      'denied',
    );
    expect(fake.verified).toHaveLength(0);
    await auth.check(basic('prometheus', 'secret-in-cache?'), 'c');
    await auth.check(basic('prometheus', 'right'), 'c');
    const caches = auth as unknown as { granted: Map<string, true>; refused: Map<string, true> };
    const keys = [...caches.granted.keys(), ...caches.refused.keys()];
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('WorkerBcrypt', () => {
  const workers: WorkerBcrypt[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });

  it('verifies real bcrypt hashes off the event loop: timers keep firing while it works', async () => {
    const worker = new WorkerBcrypt();
    workers.push(worker);
    const hash = bcrypt.hashSync('s3cret', 10);
    // Started (the worker is up) before the loop is watched.
    expect(await worker.verify('s3cret', hash)).toBe(true);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const verdicts = await Promise.all([
      worker.verify('s3cret', hash),
      worker.verify('wrong', hash),
      worker.verify('s3cret', hash),
    ]);
    clearInterval(ticker);
    expect(verdicts).toEqual([true, false, true]);
    // Three checks at cost 10 take tens of milliseconds; on the loop, no timer could fire.
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(await worker.hash('x', 4)).toMatch(/^\$2[aby]\$04\$/);
  });

  it('a check that cannot run (a hash that is not one) is refused, and the worker carries on', async () => {
    const worker = new WorkerBcrypt();
    workers.push(worker);
    const auth = new BasicAuth(new Map([['u', 'not-a-bcrypt-hash']]), worker);
    expect(await auth.check(basic('u', 'p'), 'c')).toBe('denied');
    const hash = bcrypt.hashSync('p', 4);
    expect(await worker.verify('p', hash)).toBe(true);
  });
});
