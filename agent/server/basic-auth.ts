import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** bcrypt, done somewhere that does not hold the event loop. */
export interface Bcrypt {
  verify(password: string, hash: string): Promise<boolean>;
  hash(password: string, cost: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * bcryptjs's UMD build, set as a string by the release build (deploy/release/build.ts): a
 * single-file agent has no node_modules for the worker to require it from.
 */
declare const INFERWATCH_BCRYPT_UMD: string | undefined;

/** How the worker gets bcryptjs: from the release build's copy, or from node_modules. */
function bcryptModule(): string {
  if (typeof INFERWATCH_BCRYPT_UMD === 'string')
    return `(() => { const module = { exports: {} }; const exports = module.exports;\n${INFERWATCH_BCRYPT_UMD}\nreturn module.exports; })()`;
  return `require(${JSON.stringify(createRequire(import.meta.url).resolve('bcryptjs'))})`;
}

/**
 * The worker's code, inline so it runs the same from the sources, the build and a bundle:
 * messages { id, op: 'verify', password, hash } and { id, op: 'hash', password, cost }.
 */
function workerCode(): string {
  return `
const { parentPort } = require('node:worker_threads');
const bcrypt = ${bcryptModule()};
parentPort.on('message', (job) => {
  try {
    const result = job.op === 'verify'
      ? bcrypt.compareSync(job.password, job.hash)
      : bcrypt.hashSync(job.password, job.cost);
    parentPort.postMessage({ id: job.id, result });
  } catch {
    parentPort.postMessage({ id: job.id, error: true });
  }
});
`;
}

/**
 * bcrypt in one worker thread, started on first use and not keeping the process alive: the
 * event loop stays free for scrapes while checks run (bcryptjs's async API only slices the
 * work, it still runs on the loop), and a flood of checks costs one core at most.
 */
export class WorkerBcrypt implements Bcrypt {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  verify(password: string, hash: string): Promise<boolean> {
    return this.run({ op: 'verify', password, hash }) as Promise<boolean>;
  }

  hash(password: string, cost: number): Promise<string> {
    return this.run({ op: 'hash', password, cost }) as Promise<string>;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private run(job: Record<string, unknown>): Promise<unknown> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...job });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerCode(), { eval: true });
    worker.unref();
    worker.on('message', (message: { id: number; result?: unknown; error?: boolean }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error) waiter?.reject(new Error('bcrypt failed'));
      else waiter?.resolve(message.result);
    });
    const fail = () => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(new Error('bcrypt worker stopped'));
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.worker = worker;
    return worker;
  }
}

export type AuthVerdict = 'ok' | 'denied' | 'throttled';

export interface BasicAuthOptions {
  /** Checks waiting for bcrypt at once; more are turned away unchecked. */
  readonly maxPending?: number;
  /** Failed checks one client address may cause per minute; more are turned away unchecked. */
  readonly failuresPerMinute?: number;
  /** Monotonic milliseconds (injected in tests). */
  readonly now?: () => number;
}

const CACHE_SIZE = 1024;
const MAX_CLIENTS = 4096;
const WINDOW_MS = 60_000;

/**
 * HTTP basic credentials checked against bcrypt hashes as the Prometheus exporter-toolkit
 * checks them, and then some:
 * - verdicts are cached, right and wrong apart, under a hash of the user and password (never
 *   the password), so a scrape every few seconds and a client repeating a wrong password cost
 *   no bcrypt after the first time, and wrong passwords cannot push a right one out;
 * - bcrypt runs in a worker thread, so checks never hold the event loop;
 * - checks waiting for it are bounded, and so are the failed checks one client address may
 *   cause per minute: past either, a request is turned away (429) without checking;
 * - an unknown user is checked against a decoy hash of the users' own cost, so a known and an
 *   unknown name take the same time.
 */
export class BasicAuth {
  /** Right and wrong apart, so a flood of wrong passwords cannot evict a scraper's login. */
  private readonly granted = new Map<string, true>();
  private readonly refused = new Map<string, true>();
  private readonly failures = new Map<string, { since: number; count: number }>();
  private readonly decoy: Promise<string>;
  private pending = 0;
  private readonly maxPending: number;
  private readonly failuresPerMinute: number;
  private readonly now: () => number;

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    private readonly bcrypt: Bcrypt,
    options: BasicAuthOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 16;
    this.failuresPerMinute = options.failuresPerMinute ?? 30;
    this.now = options.now ?? (() => performance.now());
    this.decoy = bcrypt.hash(randomUUID(), decoyCost(users));
    this.decoy.catch(() => undefined);
  }

  async check(header: string | undefined, client: string): Promise<AuthVerdict> {
    const m = /^Basic ([A-Za-z0-9+/=]{1,4096})$/i.exec(header ?? '');
    if (!m) return 'denied';
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'denied';
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const key = createHash('sha256').update(`${user}\0${password}`).digest('hex');
    if (touch(this.granted, key)) return 'ok';
    if (touch(this.refused, key)) return 'denied';
    if (this.pending >= this.maxPending || this.failedTooOften(client)) return 'throttled';
    this.pending++;
    let ok: boolean;
    try {
      const hash = this.users.get(user);
      const verified = await this.bcrypt.verify(password, hash ?? (await this.decoy));
      ok = hash !== undefined && verified;
    } catch {
      // The check could not run: refuse, and remember nothing.
      return 'denied';
    } finally {
      this.pending--;
    }
    remember(ok ? this.granted : this.refused, key);
    if (!ok) this.countFailure(client);
    return ok ? 'ok' : 'denied';
  }

  private failedTooOften(client: string): boolean {
    const entry = this.failures.get(client);
    if (!entry || this.now() - entry.since > WINDOW_MS) return false;
    return entry.count >= this.failuresPerMinute;
  }

  private countFailure(client: string): void {
    const now = this.now();
    const entry = this.failures.get(client);
    if (entry && now - entry.since <= WINDOW_MS) {
      entry.count++;
      return;
    }
    if (this.failures.size >= MAX_CLIENTS) this.failures.clear();
    this.failures.set(client, { since: now, count: 1 });
  }
}

/** Whether the cache holds the key, marking it most recently used. */
function touch(cache: Map<string, true>, key: string): boolean {
  if (!cache.delete(key)) return false;
  cache.set(key, true);
  return true;
}

/** Keeps the key, the least recently used going first when the cache is full. */
function remember(cache: Map<string, true>, key: string): void {
  if (cache.size >= CACHE_SIZE) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, true);
}

/** The cost most users' hashes have ($2b$12$... is 12), so a decoy costs what they do. */
function decoyCost(users: ReadonlyMap<string, string>): number {
  const counts = new Map<number, number>();
  for (const hash of users.values()) {
    const cost = Number(/^\$2[aby]?\$(\d{2})\$/.exec(hash)?.[1] ?? 10);
    counts.set(cost, (counts.get(cost) ?? 0) + 1);
  }
  let best = 10;
  let most = 0;
  for (const [cost, n] of counts) if (n > most) [best, most] = [cost, n];
  return best;
}
