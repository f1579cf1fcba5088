import type { Emitter } from '../core/collector.js';
import type { Labels, MetricDef } from '../core/metric.js';
import * as M from './metrics.js';
import type { PromptTokensCounted } from '../shared/runtime-endpoints.js';
import type { Measured } from './measure.js';
import type { ProbeModule, ProbeResult } from './types.js';

/** What the probe and the evaluation send, to subtract from the traffic runtimes served. */
export const PROBE_TRAFFIC_METRICS = [
  M.PROBE_REQUESTS,
  M.PROBE_INPUT_TOKENS_TOTAL,
  M.PROBE_OUTPUT_TOKENS_TOTAL,
] as const;

/** The do-no-harm reasons: the runtime was too busy to be probed without hurting its users. */
const STANDS_ASIDE = new Set(['saturated_queue', 'saturated_kv_cache', 'saturated_slots']);

interface Count {
  readonly labels: Labels;
  value: number;
}

/**
 * The probe's last results and its counters: what /metrics and /probe serve. A scrape reads
 * it and never starts a generation.
 */
export class ProbeStore {
  private readonly last = new Map<string, ProbeResult>();
  private readonly lastSuccess = new Map<string, ProbeResult>();
  private readonly canaries = new Map<string, ProbeResult>();
  private readonly counters = new Map<MetricDef, Map<string, Count>>();
  /** Runs skipped in a row, by target and module, with the labels they were counted under. */
  private readonly skips = new Map<string, Count>();
  /** The target and model each target's last run used, so a skip is labelled like its runs. */
  private readonly models = new Map<string, string>();
  private targets = new Map<string, string>();

  record(result: ProbeResult): void {
    // A skip before the model was looked up carries the model the target's runs last used.
    const model =
      result.outcome === 'skipped' && result.model === ''
        ? this.modelOf(result.target)
        : result.model;
    const run = { target: result.target, model, probe: result.module };
    this.add(M.PROBE_RUNS, { ...run, result: result.outcome, reason: result.reason }, 1);
    const streak = keyOf(result.target, result.module);
    if (result.outcome === 'skipped') {
      // Only standing aside for the runtime's load makes a streak: a skip while backing off
      // or while a run is in flight follows runs that did measure, and a model Ollama has not
      // loaded is served to no one either.
      if (!STANDS_ASIDE.has(result.reason)) return;
      const skipped = this.skips.get(streak);
      if (skipped && skipped.labels.model === model) skipped.value++;
      else this.skips.set(streak, { labels: run, value: (skipped?.value ?? 0) + 1 });
      return;
    }
    // A run that reached the runtime measured it, whichever module it was.
    for (const count of this.skips.values())
      if (count.labels.target === result.target) count.value = 0;
    this.skips.set(streak, { labels: run, value: 0 });
    // At 0 from the first canary run on, so the rules' increase() sees the first wrong answer.
    if (result.module === 'canary')
      this.add(M.PROBE_RUNS, { ...run, result: 'failure', reason: 'content_mismatch' }, 0);
    this.models.set(result.target, result.model);
    const key = keyOf(result.target, result.module);
    this.last.set(key, result);
    if (result.outcome === 'success') this.lastSuccess.set(key, result);
    if (result.canary && result.measured)
      this.canaries.set(`${key}\0${result.canary.name}`, result);
    // A request counts as traffic once the runtime answered it at all.
    if (result.httpStatus !== undefined)
      this.countTraffic(
        { runtime: result.runtime, target: result.target, model: result.model },
        result.promptTokensCounted,
        result.measured,
      );
  }

  /**
   * One synthetic request the runtime answered (the probe's, or an evaluation case), counted
   * as the runtime counts its own, so served minus synthetic traffic is exact.
   */
  countTraffic(
    traffic: { readonly runtime: string; readonly target: string; readonly model: string },
    promptTokensCounted: PromptTokensCounted,
    m: Omit<Measured, 'answer'> | undefined,
  ): void {
    this.add(M.PROBE_REQUESTS, traffic, 1);
    const counted =
      promptTokensCounted === 'evaluated'
        ? (m?.evaluatedInputTokens ?? m?.inputTokens)
        : m?.inputTokens;
    if (counted !== undefined) this.add(M.PROBE_INPUT_TOKENS_TOTAL, traffic, counted);
    if (m?.outputTokens !== undefined)
      this.add(M.PROBE_OUTPUT_TOKENS_TOTAL, traffic, m.outputTokens);
  }

  /** The synthetic traffic counters alone, for when the probe is off and the evaluation is not. */
  emitTraffic(out: Emitter): void {
    for (const def of PROBE_TRAFFIC_METRICS)
      for (const c of this.counters.get(def)?.values() ?? []) out.emit(def, c.labels, c.value);
  }

  /**
   * The targets the probe works on now, by name and URL. The last results of targets no
   * longer probed are dropped; counters stay, as counters do.
   */
  setTargets(targets: readonly { readonly target: string; readonly url: string }[]): void {
    this.targets = new Map(
      targets.flatMap((t) => [
        [t.target, t.target],
        [t.url.replace(/\/+$/, ''), t.target],
      ]),
    );
    for (const map of [this.last, this.lastSuccess, this.canaries]) {
      for (const [key, result] of map) if (!this.targets.has(result.target)) map.delete(key);
    }
    for (const [key, count] of this.skips)
      if (!this.targets.has(count.labels.target ?? '')) this.skips.delete(key);
  }

  /** The target's name, given its name or its base URL. */
  targetNamed(nameOrUrl: string): string | undefined {
    return this.targets.get(nameOrUrl.replace(/\/+$/, ''));
  }

  /** The model a target's runs were last labelled with ('' before any). */
  private modelOf(target: string): string {
    return this.models.get(target) ?? '';
  }

  lastResult(target: string, module: ProbeModule): ProbeResult | undefined {
    return this.last.get(keyOf(target, module));
  }

  emit(out: Emitter): void {
    for (const r of this.last.values()) {
      const labels = { target: r.target, model: r.model, probe: r.module };
      out.emit(M.PROBE_SUCCESS, labels, r.outcome === 'success' ? 1 : 0);
      out.emit(M.PROBE_DURATION, labels, r.durationS);
      out.emit(M.PROBE_LAST_RUN, labels, r.startedAtMs / 1000);
      const m = r.measured;
      if (!m) continue;
      const seconds = (def: MetricDef, ms: number | undefined) => {
        if (ms !== undefined) out.emit(def, labels, ms / 1000);
      };
      seconds(M.PROBE_FIRST_EVENT, m.firstEventMs);
      seconds(M.PROBE_TTFT, m.ttftMs);
      seconds(M.PROBE_E2E, m.e2eMs);
      seconds(M.PROBE_TPOT, m.tpotMs);
      seconds(M.PROBE_MAX_GAP, m.maxGapMs);
      if (m.outputTokens !== undefined) out.emit(M.PROBE_OUTPUT_TOKENS, labels, m.outputTokens);
      if (m.inputTokens !== undefined) out.emit(M.PROBE_INPUT_TOKENS, labels, m.inputTokens);
      for (const phase of ['load', 'prompt', 'decode'] as const) {
        const value = m.server?.[`${phase}S`];
        if (value !== undefined) out.emit(M.PROBE_SERVER_SECONDS, { ...labels, phase }, value);
      }
      out.emit(
        M.PROBE_INFO,
        { ...labels, runtime: r.runtime, api: r.api, token_count_source: m.tokenSource ?? 'none' },
        1,
      );
    }
    for (const r of this.lastSuccess.values()) {
      out.emit(
        M.PROBE_LAST_SUCCESS,
        { target: r.target, model: r.model, probe: r.module },
        r.startedAtMs / 1000,
      );
    }
    for (const r of this.canaries.values()) {
      if (!r.canary) continue;
      out.emit(
        M.PROBE_CANARY_MATCH,
        { target: r.target, model: r.model, probe: r.module, canary: r.canary.name },
        r.canary.match ? 1 : 0,
      );
    }
    for (const c of this.skips.values()) out.emit(M.PROBE_CONSECUTIVE_SKIPS, c.labels, c.value);
    for (const [def, counts] of this.counters) {
      for (const c of counts.values()) out.emit(def, c.labels, c.value);
    }
  }

  private add(def: MetricDef, labels: Labels, by: number): void {
    let counts = this.counters.get(def);
    if (!counts) this.counters.set(def, (counts = new Map()));
    const key = JSON.stringify(labels);
    const count = counts.get(key);
    if (count) count.value += by;
    else counts.set(key, { labels, value: by });
  }
}

function keyOf(target: string, module: ProbeModule): string {
  return `${target}\0${module}`;
}
