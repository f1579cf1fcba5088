import { adapterFor } from '../../agent/collectors/runtimes/adapters/index.js';
import { describe, expect, it } from 'vitest';
import type { RuntimeEndpoint } from '../../agent/shared/runtime-endpoints.js';
import { parseConfig } from '../../agent/config/load.js';
import { renderBlackbox } from '../../agent/probe/blackbox.js';
import { probeTargets } from '../../agent/probe/settings.js';
import * as M from '../../agent/probe/metrics.js';
import { ProbeStore } from '../../agent/probe/store.js';
import { MEASURED, probeResult } from '../helpers/probe-result.js';
import { Recorder } from '../helpers/recorder.js';

const RUN = { target: 'vllm-a', model: 'Qwen2.5-7B-Instruct', probe: 'latency' };
const TRAFFIC = { runtime: 'vllm', target: 'vllm-a', model: 'Qwen2.5-7B-Instruct' };

function emitted(store: ProbeStore): Recorder {
  const out = new Recorder();
  store.emit(out);
  return out;
}

describe('ProbeStore', () => {
  it('serves the last run as gauges in seconds, and counts runs, requests and tokens', () => {
    const store = new ProbeStore();
    store.setTargets([{ target: 'vllm-a', url: 'http://127.0.0.1:8000' }]);
    store.record(probeResult({}));
    store.record(probeResult({ startedAtMs: 1_795_000_060_000 }));
    const out = emitted(store);
    expect(out.value(M.PROBE_SUCCESS, RUN)).toBe(1);
    expect(out.value(M.PROBE_TTFT, RUN)).toBe(0.12);
    expect(out.value(M.PROBE_TPOT, RUN)).toBe(0.02);
    expect(out.value(M.PROBE_E2E, RUN)).toBe(0.42);
    expect(out.value(M.PROBE_MAX_GAP, RUN)).toBe(0.03);
    expect(out.value(M.PROBE_SERVER_SECONDS, { ...RUN, phase: 'decode' })).toBe(0.3);
    expect(out.value(M.PROBE_SERVER_SECONDS, { ...RUN, phase: 'load' })).toBeUndefined();
    expect(out.value(M.PROBE_LAST_RUN, RUN)).toBe(1_795_000_060);
    expect(out.value(M.PROBE_LAST_SUCCESS, RUN)).toBe(1_795_000_060);
    expect(out.value(M.PROBE_RUNS, { ...RUN, result: 'success', reason: '' })).toBe(2);
    expect(out.value(M.PROBE_REQUESTS, TRAFFIC)).toBe(2);
    expect(out.value(M.PROBE_OUTPUT_TOKENS_TOTAL, TRAFFIC)).toBe(32);
    expect(out.value(M.PROBE_INPUT_TOKENS_TOTAL, TRAFFIC)).toBe(42);
    expect(
      out.value(M.PROBE_INFO, {
        ...RUN,
        runtime: 'vllm',
        api: 'openai-chat',
        token_count_source: 'usage',
      }),
    ).toBe(1);
  });

  it('a failure shows success 0 and drops figures it did not measure; the last success time stays', () => {
    const store = new ProbeStore();
    store.setTargets([{ target: 'vllm-a', url: 'http://x' }]);
    store.record(probeResult({}));
    store.record(
      probeResult({
        outcome: 'failure',
        reason: 'connect',
        httpStatus: undefined,
        measured: undefined,
        startedAtMs: 1_795_000_060_000,
      }),
    );
    const out = emitted(store);
    expect(out.value(M.PROBE_SUCCESS, RUN)).toBe(0);
    expect(out.value(M.PROBE_TTFT, RUN)).toBeUndefined();
    expect(out.value(M.PROBE_LAST_SUCCESS, RUN)).toBe(1_795_000_000);
    expect(out.value(M.PROBE_RUNS, { ...RUN, result: 'failure', reason: 'connect' })).toBe(1);
    // A request that never reached the runtime is not traffic.
    expect(out.value(M.PROBE_REQUESTS, TRAFFIC)).toBe(1);
  });

  it('a skip only counts: the last result stays, labelled with the model the runs used', () => {
    const store = new ProbeStore();
    store.setTargets([{ target: 'vllm-a', url: 'http://x' }]);
    store.record(probeResult({}));
    store.record(
      probeResult({
        outcome: 'skipped',
        reason: 'saturated_queue',
        model: '',
        httpStatus: undefined,
        measured: undefined,
      }),
    );
    const out = emitted(store);
    expect(out.value(M.PROBE_SUCCESS, RUN)).toBe(1);
    expect(out.value(M.PROBE_RUNS, { ...RUN, result: 'skipped', reason: 'saturated_queue' })).toBe(
      1,
    );
  });

  it('counts the prompt tokens a runtime counted: evaluated ones where its counter leaves cached ones out', () => {
    const store = new ProbeStore();
    store.setTargets([{ target: 'llama', url: 'http://x' }]);
    // llama-server's repeated prompt: 5 tokens seen, 1 evaluated (the rest from its cache).
    const cached = {
      ...MEASURED,
      inputTokens: 5,
      evaluatedInputTokens: 1,
      tokenSource: 'native' as const,
    };
    const traffic = { runtime: 'llamacpp', target: 'llama', model: 'gemma-3-4b' };
    const run = { target: 'llama', model: 'gemma-3-4b', probe: 'latency' };
    const llama = { target: 'llama', runtime: 'llamacpp', model: 'gemma-3-4b', measured: cached };
    store.record(probeResult({ ...llama, promptTokensCounted: 'evaluated' }));
    let out = emitted(store);
    expect(out.value(M.PROBE_INPUT_TOKENS_TOTAL, traffic)).toBe(1);
    // The run's own gauge is what the model saw.
    expect(out.value(M.PROBE_INPUT_TOKENS, run)).toBe(5);
    // A runtime that counts every prompt token has the probe's traffic counted the same way.
    store.record(probeResult({ ...llama, promptTokensCounted: 'all' }));
    out = emitted(store);
    expect(out.value(M.PROBE_INPUT_TOKENS_TOTAL, traffic)).toBe(6);
  });

  it('counts runs skipped in a row, back to 0 at the next run that is not a skip', () => {
    const store = new ProbeStore();
    store.setTargets([{ target: 'vllm-a', url: 'http://x' }]);
    const skip = () =>
      store.record(
        probeResult({
          outcome: 'skipped',
          reason: 'saturated_kv_cache',
          model: '',
          httpStatus: undefined,
          measured: undefined,
        }),
      );
    skip();
    expect(emitted(store).value(M.PROBE_CONSECUTIVE_SKIPS, { ...RUN, model: '' })).toBe(1);
    store.record(probeResult({}));
    expect(emitted(store).value(M.PROBE_CONSECUTIVE_SKIPS, RUN)).toBe(0);
    for (let i = 0; i < 26; i++) skip();
    expect(emitted(store).value(M.PROBE_CONSECUTIVE_SKIPS, RUN)).toBe(26);
    store.record(probeResult({ outcome: 'failure', reason: 'connect', measured: undefined }));
    expect(emitted(store).value(M.PROBE_CONSECUTIVE_SKIPS, RUN)).toBe(0);
  });

  it('the streak is standing aside for load only: backoff and overlap skips neither count nor break it; a canary run that measured ends it', () => {
    const store = new ProbeStore();
    store.setTargets([{ target: 'vllm-a', url: 'http://x' }]);
    const skip = (reason: string, module: 'latency' | 'canary' = 'latency') =>
      store.record(
        probeResult({
          outcome: 'skipped',
          reason,
          module,
          model: '',
          httpStatus: undefined,
          measured: undefined,
        }),
      );
    store.record(probeResult({}));
    skip('saturated_queue');
    skip('backoff');
    skip('in_flight');
    skip('model_not_loaded');
    skip('saturated_slots');
    expect(emitted(store).value(M.PROBE_CONSECUTIVE_SKIPS, RUN)).toBe(2);
    // Backoff after failures, landing on every latency tick while the canary ticks run: not a streak.
    for (let i = 0; i < 20; i++) {
      skip('backoff');
      store.record(
        probeResult({
          module: 'canary',
          outcome: 'failure',
          reason: 'http_5xx',
          measured: undefined,
        }),
      );
    }
    expect(emitted(store).value(M.PROBE_CONSECUTIVE_SKIPS, RUN)).toBe(0);
  });

  it('a canary keeps its match per canary name; a target that goes away loses its gauges, not its counters', () => {
    const store = new ProbeStore();
    store.setTargets([{ target: 'vllm-a', url: 'http://x' }]);
    const canary = (name: string, match: boolean) =>
      probeResult({
        module: 'canary',
        outcome: match ? 'success' : 'failure',
        reason: match ? '' : 'content_mismatch',
        canary: { name, match, promptSha256: 'ab', answerChars: 2 },
      });
    store.record(canary('addition', true));
    store.record(canary('capital', false));
    const out = emitted(store);
    const c = { ...RUN, probe: 'canary' };
    expect(out.value(M.PROBE_CANARY_MATCH, { ...c, canary: 'addition' })).toBe(1);
    // The mismatch counter exists from the first canary run on, for increase() in the rules.
    const fresh = new ProbeStore();
    fresh.setTargets([{ target: 'vllm-a', url: 'http://x' }]);
    fresh.record(canary('addition', true));
    expect(
      emitted(fresh).value(M.PROBE_RUNS, { ...c, result: 'failure', reason: 'content_mismatch' }),
    ).toBe(0);
    expect(out.value(M.PROBE_CANARY_MATCH, { ...c, canary: 'capital' })).toBe(0);
    expect(out.value(M.PROBE_SUCCESS, c)).toBe(0);
    store.setTargets([]);
    const after = emitted(store);
    expect(after.samples.filter((s) => s.def.type === 'gauge')).toEqual([]);
    expect(after.value(M.PROBE_RUNS, { ...c, result: 'failure', reason: 'content_mismatch' })).toBe(
      1,
    );
  });

  it('finds a target by its name or its base URL, trailing slash or not', () => {
    const store = new ProbeStore();
    store.setTargets([{ target: 'vllm-a', url: 'http://127.0.0.1:8000/' }]);
    expect(store.targetNamed('vllm-a')).toBe('vllm-a');
    expect(store.targetNamed('http://127.0.0.1:8000')).toBe('vllm-a');
    expect(store.targetNamed('http://127.0.0.1:8000/')).toBe('vllm-a');
    expect(store.targetNamed('other')).toBeUndefined();
  });
});

describe('the blackbox shape', () => {
  it('before any run: no probe_success at all, never a made-up 0', () => {
    expect(renderBlackbox(undefined)).not.toMatch(/^probe_/m);
  });
  it('the last run as probe_* gauges, the regex verdict for a canary', () => {
    const text = renderBlackbox(
      probeResult({
        module: 'canary',
        outcome: 'failure',
        reason: 'content_mismatch',
        canary: { name: 'a', match: false, promptSha256: 'x', answerChars: 3 },
      }),
    );
    expect(text).toMatch(/^probe_success 0$/m);
    expect(text).toMatch(/^probe_duration_seconds 0\.5$/m);
    expect(text).toMatch(/^probe_timeout_seconds 30$/m);
    expect(text).toMatch(/^probe_http_status_code 200$/m);
    expect(text).toMatch(/^probe_failed_due_to_regex 1$/m);
    expect(text).toMatch(/^probe_llm_ttft_seconds 0\.12$/m);
    expect(text).toMatch(/^probe_llm_last_run_timestamp_seconds 1795000000$/m);
    expect(renderBlackbox(probeResult({}))).not.toContain('probe_failed_due_to_regex');
  });
});

describe('which runtimes are probed', () => {
  const endpoint = (runtime: string, target: string): RuntimeEndpoint => ({
    runtime,
    generation: adapterFor(runtime).generation,
    target,
    url: `http://127.0.0.1/${target}`,
    probeUrl: `http://127.0.0.1/${target}`,
    headers: { authorization: 'Bearer k' },
    promptTokensCounted: 'all',
    runtimeVersion: () => undefined,
    readLoad: () => Promise.resolve({}),
  });
  const endpoints = [
    endpoint('vllm', 'a'),
    endpoint('ollama', 'b'),
    endpoint('triton', 'c'),
    endpoint('llamacpp', 'd'),
  ];

  it('every runtime but Triton (its metrics port has no generation API), with the API its kind speaks', () => {
    const targets = probeTargets(endpoints, parseConfig({}).probe);
    expect(targets.map((t) => [t.target, t.api, t.apiPinned, t.readLoad !== undefined])).toEqual([
      ['a', 'openai-chat', false, true],
      ['b', 'ollama-chat', false, false],
      ['d', 'openai-chat', false, true],
    ]);
    expect(targets[0]!.headers).toEqual({ authorization: 'Bearer k' });
  });

  it('per-target settings switch one off, pin its API and name its model', () => {
    const config = parseConfig({
      probe: {
        targets: [
          { target: 'a', enabled: false },
          { target: 'd', api: 'llamacpp-completion', model: 'qwen' },
        ],
      },
    });
    const targets = probeTargets(endpoints, config.probe);
    expect(targets.map((t) => [t.target, t.api, t.apiPinned, t.model])).toEqual([
      ['b', 'ollama-chat', false, undefined],
      ['d', 'llamacpp-completion', true, 'qwen'],
    ]);
  });
});
