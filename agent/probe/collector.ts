import { NO_TARGET_TODO, probeTodo } from './todo.js';
import { randomUUID } from 'node:crypto';
import type { RuntimeEndpoint } from '../shared/runtime-endpoints.js';
import type { CollectorDeps } from '../shared/collector-factory.js';
import type { Collector, Emitter, SourceStatus } from '../core/collector.js';
import { placedByTarget } from '../shared/place.js';
import { PROBE_METRICS } from './metrics.js';
import { startOtlp, type SpanSink } from './otlp.js';
import { resultOf, runProbe } from './run.js';
import { ProbeScheduler } from './scheduler.js';
import { nodeStreaming, type StreamingHttp } from './transport.js';
import { canariesOf, probeSettings, probeTargets, type ProbeConfig } from './settings.js';
import type { Canary, ProbeModule, ProbeResult, ProbeSettings, ProbeTarget } from './types.js';

/**
 * The synthetic probe: runs on its own schedule and serves its last results, so a scrape
 * never starts a generation (an HA pair of Prometheus servers does not double the load).
 */
export class ProbeCollector implements Collector {
  readonly name = 'probe';
  readonly metrics = PROBE_METRICS;
  private readonly scheduler: ProbeScheduler;
  private readonly settings: ProbeSettings;
  private readonly cancel = new AbortController();
  private spans: SpanSink | undefined;
  private started = false;

  constructor(
    private readonly config: ProbeConfig,
    private readonly deps: CollectorDeps,
    private readonly stream: StreamingHttp = nodeStreaming,
    random: () => number = Math.random,
  ) {
    this.settings = probeSettings(config);
    this.scheduler = new ProbeScheduler(
      {
        intervalS: config.interval_s,
        jitterRatio: config.jitter_ratio,
        canaryEvery: config.canary.enabled ? config.canary.every_runs : 0,
        canaries: canariesOf(config),
        backoffMaxS: config.backoff_max_s,
        random,
      },
      (target, module, canary) => this.execute(target, module, canary),
      (target, module, reason) => this.skipped(target, module, reason),
      deps.logger,
      { clock: deps.clock, timers: deps.timers },
    );
  }

  async start(): Promise<void> {
    this.started = true;
    this.deps.runtimeEndpoints.subscribe((list) => this.sync(list));
    this.sync(this.deps.runtimeEndpoints.current);
    const otlp = this.config.otlp;
    if (otlp.endpoint) {
      try {
        this.spans = await startOtlp(
          { endpoint: otlp.endpoint, headers: otlp.headers, timeoutMs: otlp.timeout_ms },
          this.deps.logger,
        );
      } catch (error) {
        this.deps.logger.error({ err: error }, 'OTLP export could not start; probes go on');
      }
    }
  }

  async stop(): Promise<void> {
    this.cancel.abort();
    await this.scheduler.stop();
    await this.spans?.shutdown().catch(() => undefined);
  }

  collect(out: Emitter): void {
    const { runtimeEndpoints } = this.deps;
    this.deps.probeStore.emit(placedByTarget(out, (target) => runtimeEndpoints.placeOf(target)));
  }

  status(): SourceStatus {
    if (!this.started) return { state: 'starting', detail: 'not started' };
    const targets = this.scheduler.targets;
    if (targets.length === 0)
      return {
        state: 'missing',
        detail: 'no runtime to probe (none found, or all switched off)',
        todo: NO_TARGET_TODO,
      };
    const lines = targets.map((t) => {
      const last = (['latency', 'canary'] as const)
        .map((m) => this.deps.probeStore.lastResult(t.target, m))
        .filter((r): r is ProbeResult => r !== undefined)
        .map((r) => `${r.module} ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`);
      return `${t.target} (${t.runtime}, ${t.api}): ${last.join(', ') || 'no run yet'}`;
    });
    const failing = targets.filter(
      (t) => this.deps.probeStore.lastResult(t.target, 'latency')?.outcome === 'failure',
    );
    return {
      state: failing.length ? 'failing' : 'ok',
      detail: `${targets.length} runtime${targets.length === 1 ? '' : 's'} probed every ${this.config.interval_s} s${failing.length ? `, ${failing.length} failing` : ''}`,
      lines,
    };
  }

  private sync(endpoints: readonly RuntimeEndpoint[]): void {
    // The runtimes collector may publish once more while the agent stops.
    if (this.cancel.signal.aborted) return;
    const targets = probeTargets(endpoints, this.config);
    this.scheduler.sync(targets);
    this.deps.probeStore.setTargets(targets);
  }

  private async execute(
    target: ProbeTarget,
    module: ProbeModule,
    canary: Canary | undefined,
  ): Promise<ProbeResult> {
    const result = await runProbe(
      target,
      module,
      canary,
      this.settings,
      { http: this.deps.http, stream: this.stream, clock: this.deps.clock, requestId: randomUUID },
      this.cancel.signal,
    );
    if (this.cancel.signal.aborted) return result;
    this.deps.probeStore.record(result);
    this.spans?.record(
      result,
      module === 'canary' ? this.settings.canaryMaxTokens : this.settings.maxTokens,
    );
    this.report(result);
    return result;
  }

  private skipped(target: ProbeTarget, module: ProbeModule, reason: string): void {
    const detail =
      reason === 'backoff' ? 'backing off after failures' : 'the previous run is still going';
    // Without a configured model the store labels a skip with the model the runs used.
    this.deps.probeStore.record(
      resultOf(target, module, this.settings, this.deps.clock.epochMs(), {
        outcome: 'skipped',
        reason,
        detail,
      }),
    );
  }

  /** Logged once per change of state; hashes and lengths at most, never a prompt or an answer. */
  private report(result: ProbeResult): void {
    const key = `probe/${result.target}/${result.module}`;
    if (result.outcome === 'failure') {
      this.deps.errors.count(this.name, result.reason);
      this.deps.stateLog.failing(
        key,
        result.reason,
        `${result.target} ${result.module} probe: ${result.detail}`,
        probeTodo(result.reason, result.target),
      );
    } else if (result.outcome === 'success') this.deps.stateLog.ok(key);
    else
      this.deps.logger.debug(
        { target: result.target, module: result.module, reason: result.reason },
        'probe skipped',
      );
    if (result.canary && !result.canary.match)
      this.deps.logger.warn(
        {
          target: result.target,
          canary: result.canary.name,
          prompt_sha256: result.canary.promptSha256.slice(0, 16),
          answer_chars: result.canary.answerChars,
        },
        'canary answered wrong',
      );
  }
}
