import { Histogram } from './histogram.js';
import { between, poisson, type Random } from './random.js';

/** vLLM's bucket boundaries (2.5 s is the TTFT objective's threshold in alerts/settings.yaml). */
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  160, 640, 2560,
];
export const ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
];
export const REQUEST_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

/** vLLM's prompt and output length edges for a 32k context: build_1_2_5_buckets(32768). */
export const TOKEN_COUNT_BUCKETS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000,
];

export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

/** One finished request, as the engine accounts for it. */
export interface Finished {
  readonly promptTokens: number;
  readonly generationTokens: number;
  readonly finishReason: FinishReason;
  /** Seconds; absent for a request that failed before its first token. */
  readonly queueSeconds?: number;
  readonly ttftSeconds?: number;
  readonly interTokenSeconds?: number;
  readonly e2eSeconds: number;
}

export interface EngineOptions {
  /** Requests a second from simulated users, on average. */
  readonly requestsPerSecond: number;
  /** Requests the engine runs at once (vLLM's max_num_seqs). */
  readonly maxConcurrency: number;
  readonly random: Random;
}

/**
 * The serving engine behind a simulated runtime: users' requests arrive (a Poisson process
 * whose rate swells and ebbs over ten minutes), are queued, prefilled and decoded, and leave
 * their traces in the counters, gauges and histograms a real engine exports. `saturated` and
 * `failing` are the incidents it can be put in.
 */
export class InferenceEngine {
  readonly ttft = new Histogram(TTFT_BUCKETS);
  readonly interToken = new Histogram(ITL_BUCKETS);
  readonly e2e = new Histogram(REQUEST_BUCKETS);
  readonly queue = new Histogram(REQUEST_BUCKETS);
  readonly prefill = new Histogram(REQUEST_BUCKETS);
  readonly decode = new Histogram(REQUEST_BUCKETS);
  readonly promptLength = new Histogram(TOKEN_COUNT_BUCKETS);
  readonly generationLength = new Histogram(TOKEN_COUNT_BUCKETS);
  readonly finished: Record<FinishReason, number> = { stop: 0, length: 0, abort: 0, error: 0 };
  promptTokens = 0;
  generationTokens = 0;
  prefixQueries = 0;
  prefixHits = 0;
  preemptions = 0;
  running = 0;
  waiting = 0;
  kvCacheUsage = 0;
  /** Queue backlog, a full KV cache, preemptions and slow first tokens. */
  saturated = false;
  /** Every request fails (an engine that lost its workers). */
  failing = false;
  private elapsed = 0;

  constructor(private readonly options: EngineOptions) {
    this.advance(0);
  }

  get maxConcurrency(): number {
    return this.options.maxConcurrency;
  }

  /** Moves the simulation on by `seconds`: users' requests finish, gauges follow the load. */
  advance(seconds: number): void {
    const { random, requestsPerSecond, maxConcurrency } = this.options;
    this.elapsed += seconds;
    const swell = 1 + 0.3 * Math.sin((2 * Math.PI * this.elapsed) / 600);
    const rate = requestsPerSecond * swell;
    const arrivals = poisson(rate * seconds, random);
    for (let i = 0; i < arrivals; i++) this.record(this.userRequest());
    // Little's law: requests in flight = arrival rate x time in the system (about 3 s).
    const inFlight = rate * 3 * between(random, 0.8, 1.2);
    this.running = Math.min(maxConcurrency, Math.round(inFlight));
    if (this.saturated) {
      this.running = maxConcurrency;
      this.waiting = Math.round(between(random, 80, 120));
      this.kvCacheUsage = between(random, 0.97, 0.995);
      this.preemptions += poisson(3 * seconds, random);
    } else {
      this.waiting = 0;
      this.kvCacheUsage = Math.min(0.9, 0.2 + (0.5 * this.running) / maxConcurrency);
    }
    if (this.failing) this.running = 0;
  }

  /** Accounts for one finished request: a user's, or one served over HTTP (the probe's). */
  record(request: Finished): void {
    this.finished[request.finishReason] += 1;
    this.promptTokens += request.promptTokens;
    this.generationTokens += request.generationTokens;
    this.prefixQueries += request.promptTokens;
    this.prefixHits += Math.floor(request.promptTokens * 0.3);
    if (request.queueSeconds !== undefined) this.queue.observe(request.queueSeconds);
    if (request.ttftSeconds !== undefined) this.ttft.observe(request.ttftSeconds);
    if (request.interTokenSeconds !== undefined && request.generationTokens > 1)
      this.interToken.observe(request.interTokenSeconds, request.generationTokens - 1);
    this.e2e.observe(request.e2eSeconds);
    this.promptLength.observe(request.promptTokens);
    this.generationLength.observe(request.generationTokens);
    if (request.ttftSeconds !== undefined) {
      this.prefill.observe(request.ttftSeconds - (request.queueSeconds ?? 0));
      this.decode.observe(request.e2eSeconds - request.ttftSeconds);
    }
  }

  /** What a request served now would take: queueing, time to first token, per token after. */
  timing(promptTokens: number): { queue: number; ttft: number; interToken: number } {
    const { random } = this.options;
    const queue = this.saturated ? between(random, 2, 6) : between(random, 0, 0.01);
    const prefill = 0.03 + (promptTokens / 1000) * 0.05 * between(random, 0.8, 1.2);
    const interToken = between(random, 0.015, 0.03) * (this.saturated ? 3 : 1);
    return { queue, ttft: queue + prefill, interToken };
  }

  private userRequest(): Finished {
    const { random } = this.options;
    const promptTokens = Math.round(between(random, 150, 900));
    if (this.failing)
      return {
        promptTokens,
        generationTokens: 0,
        finishReason: 'error',
        e2eSeconds: between(random, 0.005, 0.05),
      };
    const generationTokens = Math.round(between(random, 30, 300));
    const { queue, ttft, interToken } = this.timing(promptTokens);
    const draw = random();
    const finishReason: FinishReason = draw < 0.85 ? 'stop' : draw < 0.99 ? 'length' : 'abort';
    return {
      promptTokens,
      generationTokens,
      finishReason,
      queueSeconds: queue,
      ttftSeconds: ttft,
      interTokenSeconds: interToken,
      e2eSeconds: ttft + (generationTokens - 1) * interToken,
    };
  }
}
