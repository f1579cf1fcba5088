import {
  CollectorError,
  failureOf,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import type { MetricDef, Sample } from '../../core/metric.js';
import { readSmallFile, SmallFileError } from '../../core/small-file.js';
import type { CollectorDeps } from '../registry.js';
import type { Facts, RuntimeAdapter, RuntimeKind } from './adapter.js';
import { adapterFor } from './adapters/index.js';
import { runtimeApi } from './api.js';
import { discover, identify } from './discovery.js';
import { TargetFolder } from './fold.js';
import { loadOf } from './load.js';
import { METRICS_SOURCE, RUNTIME_INFO, RUNTIME_METRICS, RUNTIME_UP } from './metrics.js';
import { CONCEPTS, type Reading } from './reading.js';

export interface TargetConfig {
  readonly kind?: RuntimeKind | undefined;
  readonly url: string;
  readonly name?: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly apiKeyFile?: string | undefined;
  readonly apiKeyEnv?: string | undefined;
}

export interface RuntimesOptions {
  readonly targets: readonly TargetConfig[];
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly refreshIntervalMs: number;
  readonly discovery:
    | { readonly host: string; readonly ports: readonly number[]; readonly timeoutMs: number }
    | undefined;
}

const NAME = 'runtimes';
const MAX_KEY_FILE_BYTES = 64 * 1024;
/** Identifying a configured target of no given kind tries every adapter; all of it is bounded. */
const IDENTIFY_BUDGET_MS = 10_000;

interface Target {
  readonly name: string;
  readonly url: string;
  /** Set for a configured target; a discovered one has none. */
  readonly config?: TargetConfig;
  adapter: RuntimeAdapter | undefined;
  headers: Readonly<Record<string, string>>;
  /** The API key read from its file or variable; reads wait for it. */
  credentials: Promise<string | undefined> | undefined;
  facts: Facts;
  readonly folder: TargetFolder;
  inFlight: boolean;
  /** The last read, for doctor; undefined until one succeeded. */
  lastReading: Reading | undefined;
  problem: string | undefined;
}

/**
 * LLM runtimes, read at scrape time so values are never older than one scrape: configured
 * targets and the ones discovery found, each read in parallel, bounded, one read at a time,
 * and normalized onto the inferwatch_llm_* families. A runtime that is down, hung or lying
 * costs only its own series: it shows as inferwatch_llm_runtime_up 0.
 */
export class RuntimesCollector implements Collector {
  readonly name = NAME;
  readonly metrics: readonly MetricDef[] = RUNTIME_METRICS;
  private readonly targets = new Map<string, Target>();
  private timer: NodeJS.Timeout | undefined;
  private firstRefresh: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly options: RuntimesOptions,
    private readonly deps: CollectorDeps,
  ) {
    for (const config of options.targets) {
      const name = config.name ?? hostPort(config.url);
      this.targets.set(name, this.newTarget(name, config.url, config));
    }
  }

  start(): Promise<void> {
    this.firstRefresh = this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
    this.timer.unref();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.refreshing?.catch(() => undefined);
  }

  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.firstRefresh,
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  /** Discovery, identification of configured targets without a kind, and their facts. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshNow().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshNow(): Promise<void> {
    const { discovery } = this.options;
    if (discovery) {
      // A configured runtime is not found a second time (as localhost and as 127.0.0.1, say).
      const taken = new Set(
        [...this.targets.values()]
          .filter((t) => t.config && sameHost(new URL(t.url).hostname, discovery.host))
          .map((t) => portOf(t.url)),
      );
      const found = await discover(this.deps.http, {
        host: discovery.host,
        ports: discovery.ports.filter((p) => !taken.has(p)),
        timeoutMs: discovery.timeoutMs,
        requestTimeoutMs: this.options.timeoutMs,
        maxBytes: this.options.maxBodyBytes,
      });
      const names = new Set<string>();
      for (const { adapter, url } of found) {
        const name = hostPort(url);
        names.add(name);
        const known = this.targets.get(name);
        if (known && known.adapter === adapter) continue;
        this.targets.set(name, { ...this.newTarget(name, url), adapter });
        this.deps.logger.info({ target: name, runtime: adapter.kind }, 'runtime found');
      }
      for (const [name, target] of this.targets) {
        // One slow answer during a pass does not drop a runtime that still reads well.
        if (target.config || names.has(name) || target.problem === undefined) continue;
        this.targets.delete(name);
        this.deps.logger.info(
          { target: name },
          'runtime no longer answers; dropped until found again',
        );
      }
    }
    if (this.stopped) return;
    await Promise.all([...this.targets.values()].map((t) => this.refreshTarget(t)));
    this.deps.runtimeEndpoints.set(
      [...this.targets.values()].flatMap((t) => {
        const adapter = t.adapter;
        if (!adapter) return [];
        return [
          {
            runtime: adapter.kind,
            target: t.name,
            url: t.url,
            headers: t.headers,
            readLoad: async (signal: AbortSignal) =>
              loadOf(
                await adapter.read(
                  runtimeApi(this.deps.http, { ...this.apiOptions(t), signal }),
                  t.facts,
                  t.name,
                ),
              ),
          },
        ];
      }),
    );
  }

  private async refreshTarget(target: Target): Promise<void> {
    // Read again each refresh: a rotated key is picked up.
    target.credentials = undefined;
    const problem = await this.credentialsOf(target);
    if (problem) {
      target.problem = problem;
      return;
    }
    const api = runtimeApi(this.deps.http, this.apiOptions(target));
    if (!target.adapter && target.config) {
      target.adapter = target.config.kind
        ? adapterFor(target.config.kind)
        : await identify(this.deps.http, target.url, {
            timeoutMs: this.options.timeoutMs,
            maxBytes: this.options.maxBodyBytes,
            headers: target.headers,
            signal: AbortSignal.timeout(IDENTIFY_BUDGET_MS),
          });
      if (!target.adapter) {
        target.problem = `nothing at ${target.url} answers like a known runtime`;
        return;
      }
    }
    if (target.adapter) target.facts = await target.adapter.facts(api).catch(() => target.facts);
  }

  async collect(out: Emitter, signal: AbortSignal): Promise<void> {
    const targets = [...this.targets.values()];
    const results = await Promise.all(targets.map((t) => this.readTarget(t, signal)));
    let failure: CollectorError | undefined;
    for (const [i, target] of targets.entries()) {
      const result = results[i] as (typeof results)[number];
      const kind = target.adapter?.kind ?? target.config?.kind ?? 'unknown';
      out.emit(RUNTIME_UP, { runtime: kind, target: target.name }, result instanceof Error ? 0 : 1);
      if (result instanceof Error) {
        failure ??= result;
        continue;
      }
      this.emitReading(out, target, kind, result.reading, result.samples);
    }
    if (failure) out.degrade(failure.reason, failure.message);
  }

  private async readTarget(
    target: Target,
    signal: AbortSignal,
  ): Promise<{ reading: Reading; samples: Map<MetricDef, Sample[]> } | CollectorError> {
    const fail = (reason: string, message: string) => {
      const error = new CollectorError(reason, `${target.name}: ${message}`);
      this.deps.errors.count(NAME, reason);
      target.problem = error.message;
      this.deps.stateLog.failing(`${NAME}/${target.name}`, reason, error.message);
      return error;
    };
    if (!target.adapter) return fail('unidentified', target.problem ?? 'not identified yet');
    if (target.inFlight) return fail('busy', 'the previous read is still running');
    const problem = await this.credentialsOf(target);
    if (problem) return fail('credentials', problem);
    target.inFlight = true;
    try {
      const api = runtimeApi(this.deps.http, { ...this.apiOptions(target), signal });
      const reading = await target.adapter.read(api, target.facts, target.name);
      target.lastReading = reading;
      target.problem = undefined;
      this.deps.stateLog.ok(`${NAME}/${target.name}`);
      // Served, but said: a runtime printing lines that are not the format is lying somewhere.
      if (reading.skippedLines > 0) {
        this.deps.errors.count(NAME, 'bad_lines');
        this.deps.stateLog.failing(
          `${NAME}/${target.name}/lines`,
          'bad_lines',
          `${target.name}: ${reading.skippedLines} lines of its metrics did not parse and were left out`,
        );
      } else this.deps.stateLog.ok(`${NAME}/${target.name}/lines`);
      return { reading, samples: target.folder.fold(reading.samples) };
    } catch (error) {
      const { reason, message } = failureOf(error);
      return fail(reason, message);
    } finally {
      target.inFlight = false;
    }
  }

  private emitReading(
    out: Emitter,
    target: Target,
    kind: string,
    reading: Reading,
    samples: Map<MetricDef, Sample[]>,
  ): void {
    const version = target.facts.version ?? '';
    for (const model of reading.models.length ? reading.models : ['']) {
      out.emit(
        RUNTIME_INFO,
        {
          runtime: kind,
          runtime_version: version,
          model,
          target: target.name,
          metrics_source: reading.metricsSource,
        },
        1,
      );
    }
    for (const concept of CONCEPTS) {
      const source = reading.concepts.get(concept);
      out.emit(
        METRICS_SOURCE,
        {
          runtime: kind,
          target: target.name,
          concept,
          metrics_source: source?.source ?? 'none',
          approx: String(source?.approx ?? false),
        },
        1,
      );
    }
    for (const [def, list] of samples) {
      for (const sample of list) {
        if (sample.histogram) out.emitHistogram(def, sample.labels, sample.histogram);
        else out.emit(def, sample.labels, sample.value);
      }
    }
  }

  /** Loads the target's headers and API key once per refresh; the problem, if any. */
  private credentialsOf(target: Target): Promise<string | undefined> {
    const config = target.config;
    if (!config) return Promise.resolve(undefined);
    target.credentials ??= headersOf(config).then(
      (headers) => {
        target.headers = headers;
        return undefined;
      },
      (error: unknown) => (error as Error).message,
    );
    return target.credentials;
  }

  private newTarget(name: string, url: string, config?: TargetConfig): Target {
    return {
      name,
      url,
      ...(config ? { config } : {}),
      adapter: config?.kind ? adapterFor(config.kind) : undefined,
      headers: config?.headers ?? {},
      credentials: undefined,
      facts: {},
      folder: new TargetFolder(),
      inFlight: false,
      lastReading: undefined,
      problem: undefined,
    };
  }

  private apiOptions(target: Target) {
    return {
      baseUrl: target.url,
      headers: target.headers,
      timeoutMs: this.options.timeoutMs,
      maxBytes: this.options.maxBodyBytes,
    };
  }

  status(): SourceStatus {
    const targets = [...this.targets.values()];
    const lines = targets.map((t) => describeTarget(t));
    if (targets.length === 0)
      return {
        state: 'missing',
        detail: this.options.discovery
          ? `no runtime found on ${this.options.discovery.host} ports ${this.options.discovery.ports.join(', ')}`
          : 'no runtime configured and discovery is off',
        lines,
      };
    const failing = targets.filter((t) => t.problem !== undefined);
    return {
      state: failing.length ? 'failing' : targets.some((t) => !t.lastReading) ? 'starting' : 'ok',
      detail: `${targets.length} runtime${targets.length === 1 ? '' : 's'}${failing.length ? `, ${failing.length} failing` : ''}`,
      lines,
    };
  }
}

function describeTarget(t: Target): string {
  const kind = t.adapter?.kind ?? 'unidentified';
  const head = `${t.name} (${t.url}): ${kind}${t.facts.version ? ` ${t.facts.version}` : ''}`;
  if (t.problem) return `${head}; problem: ${t.problem}`;
  const reading = t.lastReading;
  if (!reading) return `${head}; not read yet`;
  const by = (source: string) =>
    CONCEPTS.filter((c) => (reading.concepts.get(c)?.source ?? 'none') === source).join(', ') ||
    '-';
  return [
    head,
    `    models: ${reading.models.filter((m) => m !== '').join(', ') || '-'}`,
    `    native: ${by('native')}`,
    `    derived: ${by('derived')}`,
    `    missing: ${by('none')}`,
    ...reading.notes.map((n) => `    note: ${n}`),
  ].join('\n');
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function sameHost(a: string, b: string): boolean {
  return a === b || (LOOPBACK.has(a) && LOOPBACK.has(b));
}

function portOf(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

function hostPort(url: string): string {
  return `${new URL(url).hostname}:${portOf(url)}`;
}

async function headersOf(config: TargetConfig): Promise<Record<string, string>> {
  let key: string | undefined;
  if (config.apiKeyFile) {
    try {
      key = (await readSmallFile(config.apiKeyFile, MAX_KEY_FILE_BYTES)).trim();
    } catch (error) {
      // The reason only: a message quoting the file could quote the key.
      const reason =
        error instanceof SmallFileError
          ? error.message
          : ((error as NodeJS.ErrnoException).code ?? 'error');
      throw new Error(`cannot read api_key_file ${config.apiKeyFile}: ${reason}`);
    }
  } else if (config.apiKeyEnv) {
    key = process.env[config.apiKeyEnv];
    if (!key) throw new Error(`environment variable ${config.apiKeyEnv} is empty or unset`);
  }
  return key ? { ...config.headers, authorization: `Bearer ${key}` } : { ...config.headers };
}
