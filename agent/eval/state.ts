import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { filledFrom, fingerprintId, type Fingerprint } from './fingerprint.js';

export const TRIGGERS = ['change', 'schedule', 'manual'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** One complete run, as kept: counts and case ids, never a prompt or an answer. */
export interface RunSummary {
  readonly atMs: number;
  readonly durationS: number;
  readonly trigger: Trigger;
  readonly fingerprint: Fingerprint;
  readonly suiteDigest: string;
  readonly cases: number;
  /** Mean over cases of the share of each case's repeats that passed. */
  readonly passRatio: number;
  readonly counts: { readonly pass: number; readonly fail: number; readonly flaky: number };
  readonly failing: readonly string[];
  readonly flaky: readonly string[];
}

/** A suite on one target's model: its last complete run and the run it is compared with. */
export interface Entry {
  readonly suite: string;
  readonly target: string;
  readonly runtime: string;
  readonly model: string;
  readonly last: RunSummary;
  readonly baseline: RunSummary;
}

export interface CaseTally {
  readonly passes: number;
  readonly asked: number;
}

/** A run under way, kept after each case so a restart resumes it. */
export interface InProgress {
  readonly suite: string;
  readonly target: string;
  readonly runtime: string;
  readonly model: string;
  readonly trigger: Trigger;
  readonly fingerprint: Fingerprint;
  readonly suiteDigest: string;
  readonly startedAtMs: number;
  readonly results: Readonly<Record<string, CaseTally>>;
}

const STATE_VERSION = 1;
const MAX_STATE_BYTES = 16 * 1024 * 1024;
/** Suites x targets x models ever seen; the least recently run are forgotten past it. */
const MAX_ENTRIES = 2000;
/** Case ids kept per list: the metric exports fewer. */
export const MAX_IDS_KEPT = 200;

const fingerprint = z.strictObject({
  model: z.string(),
  weights: z.string().default(''),
  runtimeVersion: z.string(),
  driverVersion: z.string(),
  promptTokens: z.string(),
});
const summary = z.strictObject({
  atMs: z.number(),
  durationS: z.number(),
  trigger: z.enum(TRIGGERS),
  fingerprint,
  suiteDigest: z.string(),
  cases: z.int().min(0),
  passRatio: z.number().min(0).max(1),
  counts: z.strictObject({ pass: z.int(), fail: z.int(), flaky: z.int() }),
  failing: z.array(z.string()).max(MAX_IDS_KEPT),
  flaky: z.array(z.string()).max(MAX_IDS_KEPT),
});
const persisted = z.strictObject({
  version: z.literal(STATE_VERSION),
  entries: z.array(
    z.strictObject({
      suite: z.string(),
      target: z.string(),
      runtime: z.string(),
      model: z.string(),
      last: summary,
      baseline: summary,
    }),
  ),
  inProgress: z
    .strictObject({
      suite: z.string(),
      target: z.string(),
      runtime: z.string(),
      model: z.string(),
      trigger: z.enum(TRIGGERS),
      fingerprint,
      suiteDigest: z.string(),
      startedAtMs: z.number(),
      results: z.record(
        z.string(),
        z.strictObject({ passes: z.int().min(0), asked: z.int().min(1) }),
      ),
    })
    .optional(),
});

export const STATE_FILE = 'evaluation.json';

/** Two records of one run (a file read back holds copies, not the same object). */
function sameRun(a: RunSummary, b: RunSummary): boolean {
  return a.atMs === b.atMs && a.suiteDigest === b.suiteDigest;
}

export function entryKey(suite: string, target: string, model: string): string {
  return JSON.stringify([suite, target, model]);
}

/**
 * The evaluation's memory on disk (the state directory): survives restarts and upgrades.
 * Written whole to a temporary file and renamed, so a crash never leaves half a file; read
 * again when another process (`inferwatch eval --accept`) wrote it.
 */
export class EvalStateFile {
  private entries = new Map<string, Entry>();
  private progress: InProgress | undefined;
  private seenMtimeMs = 0;
  /** Why the last write failed; undefined when it worked. */
  writeError: string | undefined;
  /** Why the file could not be read at start (it was then left as it was, and not written). */
  readError: string | undefined;

  constructor(readonly path: string) {}

  static inDir(dir: string): EvalStateFile {
    return new EvalStateFile(join(dir, STATE_FILE));
  }

  /** Reads the file; a missing one is an empty memory, an unreadable one is reported. */
  load(): void {
    let text: string;
    try {
      const stat = statSync(this.path);
      if (stat.size > MAX_STATE_BYTES) throw new Error(`larger than ${MAX_STATE_BYTES} bytes`);
      this.seenMtimeMs = stat.mtimeMs;
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.readError = `${this.path}: ${(error as Error).message}`;
      return;
    }
    let parsed;
    try {
      parsed = persisted.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      this.readError = `${this.path}: not an evaluation state file of this version`;
      return;
    }
    this.readError = undefined;
    this.entries = new Map(
      parsed.data.entries.map((e) => [entryKey(e.suite, e.target, e.model), e]),
    );
    this.progress = parsed.data.inProgress;
  }

  /** Reads the file again when another process wrote it since; keeps the run under way. */
  reloadIfChanged(): boolean {
    let mtime: number;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch {
      return false;
    }
    if (mtime === this.seenMtimeMs) return false;
    const progress = this.progress;
    this.load();
    this.progress = progress;
    return true;
  }

  get(suite: string, target: string, model: string): Entry | undefined {
    return this.entries.get(entryKey(suite, target, model));
  }

  all(): readonly Entry[] {
    return [...this.entries.values()];
  }

  get inProgress(): InProgress | undefined {
    return this.progress;
  }

  setProgress(progress: InProgress | undefined): void {
    this.progress = progress;
    this.save();
  }

  /** Records a complete run; the first one (or the first of a changed suite) is the baseline. */
  record(
    where: { suite: string; target: string; runtime: string; model: string },
    run: RunSummary,
  ): Entry {
    const key = entryKey(where.suite, where.target, where.model);
    const before = this.entries.get(key);
    const baseline =
      before && before.baseline.suiteDigest === run.suiteDigest ? before.baseline : run;
    const entry: Entry = { ...where, last: run, baseline };
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.progress = undefined;
    this.trim();
    this.save();
    return entry;
  }

  /**
   * Parts of the fingerprint unknown when the last run began (the probe had not answered
   * yet), learned since: without them a later change of that part would go unseen.
   */
  learn(suite: string, target: string, model: string, observed: Fingerprint): void {
    const key = entryKey(suite, target, model);
    const entry = this.entries.get(key);
    if (!entry) return;
    const known = filledFrom(entry.last.fingerprint, observed);
    if (fingerprintId(known) === fingerprintId(entry.last.fingerprint)) return;
    const last = { ...entry.last, fingerprint: known };
    this.entries.set(key, {
      ...entry,
      last,
      baseline: sameRun(entry.baseline, entry.last) ? last : entry.baseline,
    });
    this.save();
  }

  /** The last run becomes the baseline (a deliberate change accepted); returns those changed. */
  accept(match: (e: Entry) => boolean): Entry[] {
    const changed: Entry[] = [];
    for (const [key, entry] of this.entries) {
      if (!match(entry) || sameRun(entry.baseline, entry.last)) continue;
      const accepted = { ...entry, baseline: entry.last };
      this.entries.set(key, accepted);
      changed.push(accepted);
    }
    if (changed.length) this.save();
    return changed;
  }

  private trim(): void {
    if (this.entries.size <= MAX_ENTRIES) return;
    const oldest = [...this.entries.entries()].sort((a, b) => a[1].last.atMs - b[1].last.atMs);
    for (const [key] of oldest.slice(0, this.entries.size - MAX_ENTRIES)) this.entries.delete(key);
  }

  private save(): void {
    // A file that could not be read is left as it was: writing would lose what it held.
    if (this.readError) return;
    const body = JSON.stringify({
      version: STATE_VERSION,
      entries: [...this.entries.values()],
      ...(this.progress ? { inProgress: this.progress } : {}),
    });
    const temporary = `${this.path}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
      writeFileSync(temporary, body, { mode: 0o640 });
      renameSync(temporary, this.path);
      this.seenMtimeMs = statSync(this.path).mtimeMs;
      this.writeError = undefined;
    } catch (error) {
      this.writeError = `${this.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    }
  }
}
