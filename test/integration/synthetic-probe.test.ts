import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../agent/core/clock.js';
import { httpClient } from '../../agent/core/http.js';
import { runProbe } from '../../agent/probe/run.js';
import type { ProbeWorld } from '../../agent/probe/types.js';
import { nodeStreaming } from '../../agent/probe/transport.js';
import type { Canary, ProbeSettings, ProbeTarget } from '../../agent/probe/types.js';
import { chat, sse, StreamServer, type Step } from '../fake/stream-server.js';
import { readFixture } from '../helpers/fixtures.js';

const SETTINGS: ProbeSettings = {
  timeoutMs: 3000,
  stallMs: 400,
  maxTokens: 16,
  canaryMaxTokens: 8,
  maxBodyBytes: 64 * 1024,
  latencyPrompt: 'Count from 1 to 100.',
  skipWhen: { waitingAbove: 0, kvCacheUsageAbove: 0.8 },
  user: 'inferwatch-probe',
  requestIdPrefix: 'inferwatch-probe-',
  userAgent: 'inferwatch/test (synthetic-probe)',
  loadModels: false,
};

let ids = 0;
const WORLD: ProbeWorld = {
  http: httpClient,
  stream: nodeStreaming,
  clock: systemClock,
  requestId: () => `id-${++ids}`,
};

const servers: StreamServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function vllm(
  steps: readonly Step[],
  extra: Partial<Parameters<StreamServer['script']>[1]> = {},
) {
  const server = new StreamServer()
    .json('/v1/models', {
      object: 'list',
      data: [{ id: '/models/Qwen2.5-7B-Instruct', object: 'model' }],
    })
    .script('/v1/chat/completions', { steps, ...extra });
  servers.push(server);
  const url = await server.listen();
  const target: ProbeTarget = {
    target: 'vllm-a',
    runtime: 'vllm',
    url,
    headers: { authorization: 'Bearer secret' },
    api: 'openai-chat',
    apiPinned: false,
    promptTokensCounted: 'all',
    model: undefined,
  };
  return { server, target };
}

/** 16 tokens in 4 chunks of 4, as a speculative or batched server sends them. */
const SCRIPTED: Step[] = [
  { at: 50, write: chat.role() },
  { at: 120, write: ': keep-alive\n\n' },
  { at: 200, write: chat.content('1 2 3 4') },
  { at: 260, write: chat.content(' 5 6 7 8') },
  { at: 300, write: chat.content('') },
  { at: 330, write: chat.content(' 9 10 11 12') },
  { at: 420, write: chat.content(' 13 14 15 16', 'length') },
  { at: 500, write: chat.usage(21, 16) },
  { at: 505, write: chat.done() },
];

/**
 * The transport, tapped where the answer reaches the probe's process: when each chunk arrived,
 * from when the request was sent. That is the truth the probe can see; how late the socket
 * delivers a server's write depends on the machine's load, not on the probe.
 */
function tapped() {
  let sentAt = 0;
  let received = '';
  const arrivals: { readonly at: number; readonly text: string }[] = [];
  const recording: ProbeWorld = {
    ...WORLD,
    stream: {
      post: async (url, request) => {
        sentAt = performance.now();
        const response = await nodeStreaming.post(url, request);
        async function* tap() {
          for await (const chunk of response.body) {
            received += Buffer.from(chunk).toString('utf8');
            arrivals.push({ at: performance.now(), text: received });
            yield chunk;
          }
        }
        return { status: response.status, body: tap() };
      },
    },
  };
  return {
    world: recording,
    /** When `text` had arrived whole, from the request's start. */
    arrived: (text: string) => arrivals.find((a) => a.text.includes(text))!.at - sentAt,
    sentAt: () => sentAt,
  };
}

describe('the probe against a scripted stream', () => {
  it('measures TTFT within 5 ms of the truth, and E2E, TPOT and the largest gap from token events', async () => {
    const { server, target } = await vllm(SCRIPTED);
    // Two truths on one clock (the server runs in this process): when the server wrote each
    // event, and when it reached the probe's process. The probe never measures an event before
    // the server wrote it, and measures it within 5 ms of its arrival.
    const tap = tapped();
    const r = await runProbe(target, 'latency', undefined, SETTINGS, tap.world);
    const wrote = (text: string) => server.writes.find((w) => w.text === text)!.at - tap.sentAt();
    const arrived = tap.arrived;
    expect(r).toMatchObject({
      outcome: 'success',
      reason: '',
      model: 'Qwen2.5-7B-Instruct',
      httpStatus: 200,
    });
    const m = r.measured!;
    const within5 = (measured: number | undefined, text: string) => {
      expect(measured! - wrote(text)).toBeGreaterThanOrEqual(0);
      expect(measured! - arrived(text)).toBeGreaterThanOrEqual(0);
      expect(measured! - arrived(text)).toBeLessThan(5);
    };
    within5(m.ttftMs, chat.content('1 2 3 4')); // scripted at 200 ms
    within5(m.firstEventMs, chat.role());
    within5(m.e2eMs, chat.content(' 13 14 15 16', 'length')); // not the usage chunk
    expect(m.ttftMs).toBeGreaterThanOrEqual(200);
    // The largest gap between output events, as they arrived (scripted 330 -> 420).
    const outputs = [' 5 6 7 8', ' 9 10 11 12']
      .map((t) => arrived(chat.content(t)))
      .concat(arrived(chat.content(' 13 14 15 16', 'length')));
    const truthGap = Math.max(
      ...outputs.map(
        (at, i) => at - (i === 0 ? arrived(chat.content('1 2 3 4')) : outputs[i - 1]!),
      ),
    );
    expect(Math.abs(m.maxGapMs! - truthGap)).toBeLessThan(5);
    expect(m.maxGapMs).toBeGreaterThanOrEqual(60);
    expect(m).toMatchObject({
      outputTokens: 16,
      tokenSource: 'usage',
      inputTokens: 21,
      finish: 'length',
    });
    expect(m.tpotMs).toBeCloseTo((m.e2eMs! - m.ttftMs!) / 15, 9);
    expect(r.durationS).toBeGreaterThan(0.5);
    // Marked, bounded and keyed as configured.
    const post = server.received.find((q) => q.method === 'POST')!;
    expect(post.headers['x-request-id']).toMatch(/^inferwatch-probe-id-\d+$/);
    expect(post.headers['user-agent']).toBe('inferwatch/test (synthetic-probe)');
    expect(post.headers.authorization).toBe('Bearer secret');
    expect(server.posted()[0]).toMatchObject({
      model: '/models/Qwen2.5-7B-Instruct',
      max_tokens: 16,
      temperature: 0,
      user: 'inferwatch-probe',
      stream_options: { include_usage: true },
    });
  });

  it('names the model vLLM lists, and the weights it says it loaded (its captured /v1/models)', async () => {
    const server = new StreamServer()
      .json('/v1/models', JSON.parse(readFixture('probe', 'vllm_v1-models_llama-3.1-8b.json')))
      .script('/v1/chat/completions', { steps: SCRIPTED });
    servers.push(server);
    const url = await server.listen();
    const target: ProbeTarget = {
      target: 'vllm-a',
      runtime: 'vllm',
      url,
      headers: {},
      api: 'openai-chat',
      apiPinned: false,
      promptTokensCounted: 'all',
      model: undefined,
    };
    const r = await runProbe(target, 'latency', undefined, SETTINGS, WORLD);
    expect(r).toMatchObject({
      outcome: 'success',
      model: 'meta-llama/Meta-Llama-3.1-8B-Instruct',
      weights: 'meta-llama/Meta-Llama-3.1-8B-Instruct',
    });
    expect(server.posted()[0]).toMatchObject({ model: 'meta-llama/Meta-Llama-3.1-8B-Instruct' });
  });

  it("replays vLLM's captured tool-call stream at its captured times: TTFT is the first tool-call delta", async () => {
    const text = readFixture(
      'probe',
      'openai-sse_vllm-v1-chat-completions_tool-call_client-trace-log.txt',
    );
    const steps: Step[] = [];
    for (const line of text.split('\n')) {
      const stamped = /^\[(\d+\.\d+)\]sec \[TRACE\] on_stdout data: (data: .*)$/.exec(line);
      if (stamped)
        steps.push({
          at: Math.round((Number(stamped[1]) - 55.5) * 1000),
          write: `${stamped[2]}\n\n`,
        });
      else if (line.startsWith('data: '))
        steps.push({ at: steps.at(-1)!.at, write: `${line}\n\n` });
    }
    const { server, target } = await vllm(steps);
    const tap = tapped();
    const r = await runProbe(target, 'latency', undefined, SETTINGS, tap.world);
    expect(r.outcome).toBe('success');
    // Captured 86 ms apart: the role-only chunk at 55.529 s, the first tool-call delta at
    // 55.615 s. The server wrote them that far apart (its timers run late under load, never
    // early); the measured gap is held within 5 ms of when they reached the probe.
    const role = server.writes[0]!;
    const firstCall = server.writes.find((w) => w.text.includes('"tool_calls"'))!;
    expect(firstCall.at - role.at).toBeGreaterThan(60);
    const truth = tap.arrived(firstCall.text) - tap.arrived(role.text);
    expect(Math.abs(r.measured!.ttftMs! - r.measured!.firstEventMs! - truth)).toBeLessThan(5);
    expect(r.measured!.ttftMs! - r.measured!.firstEventMs!).toBeGreaterThan(60);
    expect(r.measured).toMatchObject({
      outputEvents: 4,
      tokenSource: 'estimate',
      finish: 'tool_calls',
    });
  });

  it('a disconnect mid-stream is a truncated run, with what was measured kept', async () => {
    const { target } = await vllm([
      { at: 10, write: chat.content('1 2') },
      { at: 40, disconnect: true },
    ]);
    const r = await runProbe(target, 'latency', undefined, SETTINGS, WORLD);
    expect(r).toMatchObject({ outcome: 'failure', reason: 'truncated' });
    expect(r.measured?.outputEvents).toBe(1);
  });

  it('a stream that ends without a finish reason is truncated too', async () => {
    const { target } = await vllm([{ at: 10, write: chat.content('1 2') }]);
    expect(await runProbe(target, 'latency', undefined, SETTINGS, WORLD)).toMatchObject({
      outcome: 'failure',
      reason: 'truncated',
    });
  });

  it('a stall after the first token fails as stall, keep-alive comments notwithstanding', async () => {
    const pings = Array.from({ length: 12 }, (_, i) => ({
      at: 100 + i * 100,
      write: ': ping\n\n',
    }));
    const { target } = await vllm([{ at: 20, write: chat.content('1') }, ...pings], { end: false });
    const r = await runProbe(target, 'latency', undefined, SETTINGS, WORLD);
    expect(r).toMatchObject({ outcome: 'failure', reason: 'stall' });
    expect(r.durationS).toBeLessThan(1);
  });

  it('no first token in time fails as timeout_first_token; slow headers too', async () => {
    const quick = { ...SETTINGS, timeoutMs: 300, stallMs: 200 };
    const { target } = await vllm([{ at: 10, write: chat.role() }], { end: false });
    expect(await runProbe(target, 'latency', undefined, quick, WORLD)).toMatchObject({
      outcome: 'failure',
      reason: 'timeout_first_token',
    });
    const slow = await vllm([{ at: 800, write: chat.content('1', 'stop') }], { headersAt: 700 });
    const r = await runProbe(slow.target, 'latency', undefined, quick, WORLD);
    expect(r).toMatchObject({
      outcome: 'failure',
      reason: 'timeout_first_token',
      httpStatus: undefined,
    });
    expect(r.durationS).toBeLessThan(0.6);
  });

  it('429 and 500 fail with their class of status, and no body is kept', async () => {
    for (const [status, reason] of [
      [429, 'http_429'],
      [500, 'http_5xx'],
      [400, 'http_4xx'],
    ] as const) {
      const { target } = await vllm(
        [{ at: 0, write: '{"error":{"message":"the prompt was: secret"}}' }],
        { status, contentType: 'application/json' },
      );
      const r = await runProbe(target, 'latency', undefined, SETTINGS, WORLD);
      expect(r).toMatchObject({ outcome: 'failure', reason, httpStatus: status });
      expect(r.detail).not.toContain('secret');
    }
  });

  it('nothing listening fails as connect', async () => {
    const { target, server } = await vllm([]);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    expect(await runProbe(target, 'latency', undefined, SETTINGS, WORLD)).toMatchObject({
      outcome: 'failure',
      reason: 'connect',
    });
  });

  it('a stream past the size cap fails as too_large', async () => {
    const big = chat.content('x'.repeat(70 * 1024));
    const { target } = await vllm([
      { at: 5, write: big },
      { at: 10, write: chat.finish('stop') },
    ]);
    expect(await runProbe(target, 'latency', undefined, SETTINGS, WORLD)).toMatchObject({
      outcome: 'failure',
      reason: 'too_large',
    });
  });

  it('falls back to /v1/completions where the chat endpoint is absent, unless the API was pinned', async () => {
    const server = new StreamServer()
      .json('/v1/models', { data: [{ id: 'base' }] })
      .script('/v1/completions', {
        steps: [
          { at: 5, write: sse({ choices: [{ index: 0, text: '42', finish_reason: null }] }) },
          { at: 9, write: sse({ choices: [{ index: 0, text: '', finish_reason: 'stop' }] }) },
          { at: 10, write: chat.done() },
        ],
      });
    servers.push(server);
    const url = await server.listen();
    const target: ProbeTarget = {
      target: 't',
      runtime: 'vllm',
      url,
      headers: {},
      api: 'openai-chat',
      apiPinned: false,
      promptTokensCounted: 'all',
      model: undefined,
    };
    expect(await runProbe(target, 'latency', undefined, SETTINGS, WORLD)).toMatchObject({
      outcome: 'success',
      api: 'openai-completions',
    });
    expect(
      await runProbe({ ...target, apiPinned: true }, 'latency', undefined, SETTINGS, WORLD),
    ).toMatchObject({
      outcome: 'failure',
      reason: 'http_4xx',
      api: 'openai-chat',
    });
  });
});

describe('the canary', () => {
  const canary: Canary = { name: 'addition', prompt: 'What is 17 + 25?', expect: /\b42\b/i };
  const answering = (text: string): Step[] => [
    { at: 5, write: chat.role() },
    { at: 10, write: chat.content(text) },
    { at: 12, write: chat.finish('stop') },
    { at: 13, write: chat.done() },
  ];

  it('a right answer matches; its prompt is sent at temperature 0 with the canary token budget', async () => {
    const { server, target } = await vllm(answering('The answer is 42.'));
    const r = await runProbe(target, 'canary', canary, SETTINGS, WORLD);
    expect(r).toMatchObject({
      outcome: 'success',
      module: 'canary',
      canary: { name: 'addition', match: true, answerChars: 17 },
    });
    expect(r.canary!.promptSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(server.posted()[0]).toMatchObject({
      temperature: 0,
      max_tokens: 8,
      messages: [{ role: 'user', content: 'What is 17 + 25?' }],
    });
  });

  it('a wrong answer fails as content_mismatch; the result holds its length, never its text', async () => {
    const { target } = await vllm(answering('forty-one'));
    const r = await runProbe(target, 'canary', canary, SETTINGS, WORLD);
    expect(r).toMatchObject({
      outcome: 'failure',
      reason: 'content_mismatch',
      canary: { match: false, answerChars: 9 },
    });
    expect(JSON.stringify(r)).not.toContain('forty');
    expect(JSON.stringify(r)).not.toContain('17 + 25');
  });
});

describe('do no harm', () => {
  it('skips, without sending anything, while requests wait or the KV cache is full', async () => {
    const { server, target } = await vllm(SCRIPTED);
    const queued = await runProbe(
      { ...target, readLoad: async () => ({ waiting: 3, kvCacheUsage: 0.2 }) },
      'latency',
      undefined,
      SETTINGS,
      WORLD,
    );
    expect(queued).toMatchObject({ outcome: 'skipped', reason: 'saturated_queue' });
    const full = await runProbe(
      { ...target, readLoad: async () => ({ waiting: 0, kvCacheUsage: 0.93 }) },
      'latency',
      undefined,
      SETTINGS,
      WORLD,
    );
    expect(full).toMatchObject({ outcome: 'skipped', reason: 'saturated_kv_cache' });
    expect(server.received).toEqual([]);
    // Load that cannot be read says nothing: the probe goes ahead and tells.
    const unknown = await runProbe(
      { ...target, readLoad: () => Promise.reject(new Error('down')) },
      'latency',
      undefined,
      SETTINGS,
      WORLD,
    );
    expect(unknown.outcome).toBe('success');
  });

  async function ollama(ps: unknown) {
    const server = new StreamServer().json('/api/ps', ps).script('/api/chat', {
      contentType: 'application/x-ndjson',
      steps: [
        {
          at: 5,
          write:
            '{"model":"gemma3:latest","message":{"role":"assistant","content":"1 2"},"done":false}\n',
        },
        {
          at: 9,
          write:
            '{"model":"gemma3:latest","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","total_duration":9000000,"load_duration":1000000,"prompt_eval_count":12,"prompt_eval_duration":2000000,"eval_count":2,"eval_duration":4000000}\n',
        },
      ],
    });
    servers.push(server);
    const url = await server.listen();
    const target: ProbeTarget = {
      target: 'ollama',
      runtime: 'ollama',
      url,
      headers: {},
      api: 'ollama-chat',
      apiPinned: false,
      promptTokensCounted: 'all',
      model: undefined,
    };
    return { server, target };
  }

  it('Ollama: never probes a model that is not loaded, unless told to', async () => {
    const { server, target } = await ollama({ models: [] });
    expect(await runProbe(target, 'latency', undefined, SETTINGS, WORLD)).toMatchObject({
      outcome: 'skipped',
      reason: 'model_not_loaded',
    });
    expect(
      await runProbe({ ...target, model: 'llama3' }, 'latency', undefined, SETTINGS, WORLD),
    ).toMatchObject({
      outcome: 'skipped',
      reason: 'model_not_loaded',
    });
    expect(server.posted()).toEqual([]);
    const told = await runProbe(
      { ...target, model: 'llama3' },
      'latency',
      undefined,
      { ...SETTINGS, loadModels: true },
      WORLD,
    );
    expect(told.outcome).toBe('success');
    expect(server.posted()[0]).toMatchObject({ model: 'llama3' });
    expect(server.posted()[0]).not.toHaveProperty('keep_alive');
  });

  it('Ollama: asks for the keep-alive the model had left, so probing never pins it; its own timings are kept', async () => {
    const ps = JSON.parse(readFixture('probe', 'ollama_api-ps_gemma3-4b.json')) as {
      models: { expires_at: string }[];
    };
    ps.models[0]!.expires_at = new Date(Date.now() + 120_000).toISOString();
    const { server, target } = await ollama(ps);
    const r = await runProbe(target, 'latency', undefined, SETTINGS, WORLD);
    expect(r).toMatchObject({ outcome: 'success', model: 'gemma3:latest', api: 'ollama-chat' });
    // The weights it loaded, which the evaluation watches (a re-pulled tag changes them).
    expect(r.weights).toBe('a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a');
    expect(r.measured).toMatchObject({
      outputTokens: 2,
      tokenSource: 'native',
      inputTokens: 12,
      finish: 'length',
    });
    expect(r.measured!.server).toMatchObject({ loadS: 0.001, promptS: 0.002, decodeS: 0.004 });
    const keepAlive = server.posted()[0]!.keep_alive as number;
    expect(keepAlive).toBeGreaterThanOrEqual(119);
    expect(keepAlive).toBeLessThanOrEqual(120);
    expect(server.posted()[0]).toMatchObject({ options: { temperature: 0, num_predict: 16 } });
    expect(server.posted()[0]).not.toHaveProperty('user');
    // Loaded with keep_alive -1: Ollama reports an expiry centuries away; the probe keeps it forever.
    ps.models[0]!.expires_at = '2318-08-08T00:07:26.817827822+02:00';
    const forever = await ollama(ps);
    await runProbe(forever.target, 'latency', undefined, SETTINGS, WORLD);
    expect(forever.server.posted()[0]).toMatchObject({ keep_alive: -1 });
  });
});
