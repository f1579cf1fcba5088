import * as M from '../collectors/runtimes/metrics.js';
import type { Concept } from '../collectors/runtimes/reading.js';
import type { HistogramValue, Labels, MetricDef } from '../core/metric.js';

export type Outcome = 'ok' | 'error' | 'aborted' | 'rejected';
const OUTCOMES: readonly Outcome[] = ['ok', 'error', 'aborted', 'rejected'];

/** The model label of requests past the cap on models (a client naming models at random). */
const OTHER_MODEL = 'other';

/** What one finished request measured, for the ledger. */
export interface Measured {
  readonly model: string;
  readonly outcome: Outcome;
  readonly durationS?: number | undefined;
  readonly promptTokens?: { readonly value: number; readonly approx: boolean } | undefined;
  readonly generationTokens?: { readonly value: number; readonly approx: boolean } | undefined;
}

/** One figure of the normalized schema, with the concept it belongs to. */
export interface ProxyFigure {
  readonly concept: Concept;
  readonly def: MetricDef;
  readonly labels: Labels;
  readonly value: number;
  readonly histogram?: HistogramValue | undefined;
}

/**
 * The concepts the proxy measures, and whether only approximately: inter-token gaps are
 * between output events (most runtimes stream a token per event, some several); in flight is
 * running plus queued, split only where the route declares the runtime's concurrency; token
 * counts are estimated where a runtime sends none.
 */
export function proxyConcepts(
  maxConcurrency: number | undefined,
  estimated: { readonly prompt: boolean; readonly generation: boolean } = {
    prompt: false,
    generation: false,
  },
): ReadonlyMap<Concept, boolean> {
  return new Map<Concept, boolean>([
    ['time_to_first_token', false],
    ['inter_token_latency', true],
    ['request_duration', false],
    ['request_outcomes', false],
    ['prompt_tokens', estimated.prompt],
    ['generation_tokens', estimated.generation],
    ['requests_running', true],
    ...(maxConcurrency !== undefined
      ? ([
          ['requests_waiting', true],
          ['max_concurrency', false],
        ] as const)
      : []),
  ]);
}

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    for (let i = 0; i < this.bounds.length; i++)
      if (value <= (this.bounds[i] as number)) (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }

  snapshot(): HistogramValue {
    return { counts: [...this.counts], sum: this.sum, count: this.count };
  }
}

class ModelTraffic {
  readonly ttft = new Histogram(M.TIME_TO_FIRST_TOKEN.buckets ?? []);
  readonly interToken = new Histogram(M.INTER_TOKEN_LATENCY.buckets ?? []);
  readonly duration = new Histogram(M.REQUEST_DURATION.buckets ?? []);
  readonly outcomes = new Map<Outcome, number>(OUTCOMES.map((o) => [o, 0]));
  promptTokens = 0;
  generationTokens = 0;
  inFlight = 0;
}

/**
 * The request figures the proxy measured for one target (runtime), per model: what the
 * runtimes collector serves for the concepts the runtime does not report itself. Counters
 * only rise; it lives as long as the agent (a reload keeps it).
 */
export class TrafficLedger {
  private readonly models = new Map<string, ModelTraffic>();
  /** Whether any token count was estimated (the runtime sent no usage for some request). */
  promptApprox = false;
  generationApprox = false;
  /** Whether any figure was measured yet; nothing is served before. */
  active = false;

  constructor(
    readonly runtime: string,
    readonly target: string,
    private readonly maxModels: number,
  ) {}

  /** The model name a request is counted under: its own, or `other` past the cap. */
  modelKey(model: string): string {
    if (this.models.has(model) || this.models.size < this.maxModels) return model;
    return OTHER_MODEL;
  }

  started(model: string): void {
    this.active = true;
    this.of(model).inFlight++;
  }

  /** A request that was counted as started is over. */
  ended(model: string): void {
    const m = this.of(model);
    m.inFlight = Math.max(0, m.inFlight - 1);
  }

  /** A request's first output reached the proxy, `seconds` after the request did. */
  firstOutput(model: string, seconds: number): void {
    this.of(model).ttft.observe(seconds);
  }

  /** Time between two outputs of one answer. */
  outputGap(model: string, seconds: number): void {
    this.of(model).interToken.observe(seconds);
  }

  record(measured: Measured): void {
    this.active = true;
    const m = this.of(measured.model);
    m.outcomes.set(measured.outcome, (m.outcomes.get(measured.outcome) ?? 0) + 1);
    if (measured.durationS !== undefined) m.duration.observe(measured.durationS);
    if (measured.promptTokens) {
      m.promptTokens += measured.promptTokens.value;
      this.promptApprox ||= measured.promptTokens.approx;
    }
    if (measured.generationTokens) {
      m.generationTokens += measured.generationTokens.value;
      this.generationApprox ||= measured.generationTokens.approx;
    }
  }

  /** Concepts it fills, and whether only approximately. */
  concepts(maxConcurrency: number | undefined): ReadonlyMap<Concept, boolean> {
    return proxyConcepts(maxConcurrency, {
      prompt: this.promptApprox,
      generation: this.generationApprox,
    });
  }

  /** Its figures now, per model, in the runtime's schema. */
  figures(maxConcurrency: number | undefined): ProxyFigure[] {
    const out: ProxyFigure[] = [];
    const labels = (model: string, extra?: Labels): Labels => ({
      runtime: this.runtime,
      target: this.target,
      model,
      ...extra,
    });
    const totalInFlight = [...this.models.values()].reduce((n, m) => n + m.inFlight, 0);
    for (const [model, m] of this.models) {
      const l = labels(model);
      const histogram = (concept: Concept, def: MetricDef, h: Histogram) =>
        out.push({ concept, def, labels: l, value: h.count, histogram: h.snapshot() });
      histogram('time_to_first_token', M.TIME_TO_FIRST_TOKEN, m.ttft);
      histogram('inter_token_latency', M.INTER_TOKEN_LATENCY, m.interToken);
      histogram('request_duration', M.REQUEST_DURATION, m.duration);
      for (const [outcome, n] of m.outcomes)
        out.push({
          concept: 'request_outcomes',
          def: M.REQUESTS,
          labels: labels(model, { outcome }),
          value: n,
        });
      out.push({
        concept: 'prompt_tokens',
        def: M.PROMPT_TOKENS,
        labels: l,
        value: m.promptTokens,
      });
      out.push({
        concept: 'generation_tokens',
        def: M.GENERATION_TOKENS,
        labels: l,
        value: m.generationTokens,
      });
      if (maxConcurrency === undefined) {
        out.push({
          concept: 'requests_running',
          def: M.REQUESTS_RUNNING,
          labels: l,
          value: m.inFlight,
        });
        continue;
      }
      // The runtime runs up to maxConcurrency at once over all its models; the rest wait.
      // Shared out in proportion to each model's requests in flight.
      const running = Math.min(totalInFlight, maxConcurrency);
      const share = totalInFlight === 0 ? 0 : m.inFlight / totalInFlight;
      out.push({
        concept: 'requests_running',
        def: M.REQUESTS_RUNNING,
        labels: l,
        value: running * share,
      });
      out.push({
        concept: 'requests_waiting',
        def: M.REQUESTS_WAITING,
        labels: l,
        value: (totalInFlight - running) * share,
      });
      out.push({
        concept: 'max_concurrency',
        def: M.MAX_CONCURRENCY,
        labels: l,
        value: maxConcurrency,
      });
    }
    return out;
  }

  private of(model: string): ModelTraffic {
    let m = this.models.get(model);
    if (!m) this.models.set(model, (m = new ModelTraffic()));
    return m;
  }
}

/**
 * The ledgers of every proxied target, by target name: written by the proxy's routes, read by
 * the runtimes collector, which serves their figures beside what the runtime reports itself.
 * Part of the agent's state, so a reload keeps its counters.
 */
export class MeteredTraffic {
  private readonly ledgers = new Map<string, TrafficLedger>();
  /** The URL of each target's route while it listens. */
  private readonly listening = new Map<string, string>();

  routeListening(target: string, url: string): void {
    this.listening.set(target, url);
  }

  routeClosed(target: string): void {
    this.listening.delete(target);
  }

  /** Where clients reach a target through its route; undefined while none listens. */
  listeningUrl(target: string): string | undefined {
    return this.listening.get(target);
  }

  ledger(runtime: string, target: string, maxModels: number): TrafficLedger {
    let ledger = this.ledgers.get(target);
    if (!ledger || ledger.runtime !== runtime)
      this.ledgers.set(target, (ledger = new TrafficLedger(runtime, target, maxModels)));
    return ledger;
  }

  /** A target's ledger, once a route has measured anything for it. */
  of(target: string): TrafficLedger | undefined {
    const ledger = this.ledgers.get(target);
    return ledger?.active ? ledger : undefined;
  }
}
