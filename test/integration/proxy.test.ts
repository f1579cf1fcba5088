/**
 * The metering proxy in the agent, over real sockets: a simulated Ollama (its API's wire
 * shapes, no metrics endpoint) and a raw upstream behind routes; clients through them. What
 * the proxy serves is checked against the upstream's own record of what it did.
 */
import { createHash } from 'node:crypto';
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { parseConfig } from '../../agent/config/load.js';
import { systemClock, systemTimers } from '../../agent/core/clock.js';
import { httpClient } from '../../agent/core/http.js';
import { createLogger } from '../../agent/core/logger.js';
import { freePort } from '../../demo/stack.js';
import { SimulatedOllama } from '../../demo/sim/ollama.js';
import { PROXY_METRICS } from '../../agent/proxy/metrics.js';
import { eventually, family, seriesByKey } from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';

const MARKER_PROMPT = 'PLANTED-PROMPT-c41d9e';
const MARKER_ANSWER = 'PLANTED-ANSWER-7b20fa';
const MARKER_QUERY = 'PLANTED-QUERY-0a9f3c';

interface Running {
  agent: Agent;
  port: number;
  logs: string[];
  metrics(): Promise<Map<string, number>>;
  text(): Promise<string>;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startAgent(
  upstream: string,
  route: Record<string, unknown> = {},
  proxy: Record<string, unknown> = {},
): Promise<Running> {
  const port = await freePort();
  const logs: string[] = [];
  const config = parseConfig({
    log_level: 'debug',
    collectors: {
      timeout_ms: 1000,
      nvidia_smi: { enabled: false },
      kernel_events: { enabled: false },
      dcgm: { enabled: false },
      runtime_logs: { enabled: false },
      runtimes: { discovery: { enabled: false }, timeout_ms: 1000 },
    },
    probe: { enabled: false },
    proxy: {
      routes: [
        {
          listen: `127.0.0.1:${port}`,
          upstream,
          runtime: 'ollama',
          name: 'ollama-a',
          ...route,
        },
      ],
      idle_timeout_ms: 1500,
      ...proxy,
    },
  });
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk: Buffer, _e, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const agent = new Agent(config, {
    runner: { start: () => Promise.reject(new Error('no processes here')) } as never,
    http: httpClient,
    clock: systemClock,
    timers: systemTimers,
    logger,
  });
  await agent.start();
  await agent.ready(2000);
  cleanup.push(() => agent.stop());
  return {
    agent,
    port,
    logs,
    text: async () => (await agent.metrics()).toString(),
    metrics: async () => seriesByKey((await agent.metrics()).toString()),
  };
}

async function ollamaUpstream(...args: ConstructorParameters<typeof SimulatedOllama>) {
  const ollama = new SimulatedOllama(...args);
  await ollama.listen();
  cleanup.push(() => ollama.close());
  return ollama;
}

interface Answer {
  status: number;
  rawHeaders: string[];
  body: Buffer;
  /** ms from the request to each chunk received. */
  chunkTimes: number[];
  error?: string;
}

/** One request through a port, read to its end (or its break). */
function send(
  port: number,
  path: string,
  body: string | Buffer | undefined,
  options: {
    method?: string;
    headers?: Record<string, string>;
    onChunk?: (c: Buffer, res: IncomingMessage) => void;
  } = {},
): Promise<Answer> {
  return new Promise((resolve) => {
    const start = performance.now();
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: { 'content-type': 'application/json', ...options.headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        const chunkTimes: number[] = [];
        const done = (error?: string) =>
          resolve({
            status: res.statusCode ?? 0,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(parts),
            chunkTimes,
            ...(error && { error }),
          });
        res.on('data', (chunk: Buffer) => {
          parts.push(chunk);
          chunkTimes.push(performance.now() - start);
          options.onChunk?.(chunk, res);
        });
        res.on('end', () => done());
        res.on('error', (e) => done(e.message));
        res.on('close', () => {
          if (!res.complete) done('aborted');
        });
      },
    );
    req.on('error', (e) =>
      resolve({
        status: 0,
        rawHeaders: [],
        body: Buffer.alloc(0),
        chunkTimes: [],
        error: e.message,
      }),
    );
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

const T = '{runtime="ollama",target="ollama-a"';
const series = (model: string, extra = '') => `${T},model="${model}"${extra}}`;
/** A chat and a generation for llama3.2, the bodies most tests send. */
const CHAT = JSON.stringify({ model: 'llama3.2', messages: [] });
const GENERATE = JSON.stringify({ model: 'llama3.2', prompt: 'x' });

/** A model's finished requests of one outcome, as the agent exports them. */
const outcomes = (m: Map<string, number>, outcome: string, model = 'llama3.2:latest') =>
  m.get(`inferwatch_llm_requests_total${series(model, `,outcome="${outcome}"`)}`);
/** A series of the route's own families. */
const routeSeries = (name: string, port: number, extra = '') =>
  `${name}{listen="127.0.0.1:${port}",target="ollama-a"${extra}}`;
const upstreamFailures = (m: Map<string, number>, port: number, reason: string) =>
  m.get(routeSeries('inferwatch_proxy_upstream_failures_total', port, `,reason="${reason}"`));

describe('a proxied Ollama: every concept against what the runtime did', () => {
  it('TTFT, inter-token latency, duration, outcomes, tokens and in-flight, per model', async () => {
    const ollama = await ollamaUpstream(['llama3.2:latest', 'qwen2.5:0.5b'], {
      firstTokenMs: 60,
      tokenIntervalMs: 15,
      tokens: 6,
    });
    const a = await startAgent(ollama.url, { max_concurrency: 4 });
    const chat = (model: string, extra = {}) =>
      JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'why is the sky blue?' }],
        ...extra,
      });
    const answers = await Promise.all([
      send(a.port, '/api/chat', chat('llama3.2')),
      send(a.port, '/api/generate', JSON.stringify({ model: 'llama3.2', prompt: 'hello' })),
      send(
        a.port,
        '/v1/chat/completions',
        chat('qwen2.5:0.5b', { stream: true, stream_options: { include_usage: true } }),
      ),
      send(a.port, '/v1/chat/completions', chat('qwen2.5:0.5b', { stream: false })),
      send(a.port, '/api/chat', chat('llama3.2', { stream: false })),
      send(a.port, '/api/chat', chat('missing-model')),
    ]);
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 404]);
    const m = await a.metrics();
    const requests = family(m, 'inferwatch_llm_requests_total');
    expect(requests.get(series('llama3.2:latest', ',outcome="ok"'))).toBe(3);
    expect(requests.get(series('qwen2.5:0.5b', ',outcome="ok"'))).toBe(2);
    expect(requests.get(series('missing-model:latest', ',outcome="error"'))).toBe(1);

    // Tokens: each request's own count, as the runtime reported it (every answer here has one).
    const truth = (model: string, pick: (r: (typeof ollama.served)[number]) => number) =>
      ollama.served
        .filter((r) => r.model === model && r.status === 200)
        .reduce((n, r) => n + pick(r), 0);
    for (const model of ['llama3.2:latest', 'qwen2.5:0.5b']) {
      expect(family(m, 'inferwatch_llm_prompt_tokens_total').get(series(model))).toBe(
        truth(model, (r) => r.promptTokens),
      );
      expect(family(m, 'inferwatch_llm_generation_tokens_total').get(series(model))).toBe(
        truth(model, () => 6),
      );
    }
    // TTFT: streamed answers only, each at least the runtime's own wait and close to it.
    const streamed = ollama.served.filter((r) => r.streamed && r.status === 200);
    const ttftCount = (model: string) =>
      family(m, 'inferwatch_llm_time_to_first_token_seconds_count').get(series(model));
    expect(ttftCount('llama3.2:latest')).toBe(2);
    expect(ttftCount('qwen2.5:0.5b')).toBe(1);
    const ttftSum =
      (family(m, 'inferwatch_llm_time_to_first_token_seconds_sum').get(series('llama3.2:latest')) ??
        0) +
      (family(m, 'inferwatch_llm_time_to_first_token_seconds_sum').get(series('qwen2.5:0.5b')) ??
        0);
    const truthSum = streamed.reduce(
      (s, r) => s + ((r.firstOutputAt ?? 0) - r.arrivedAt) / 1000,
      0,
    );
    expect(ttftSum).toBeGreaterThanOrEqual(truthSum - 0.005 * streamed.length);
    expect(ttftSum).toBeLessThan(truthSum + 0.05 * streamed.length);
    // Inter-token gaps: 5 per streamed answer of 6 tokens, about 15 ms each.
    const itl = family(m, 'inferwatch_llm_inter_token_latency_seconds_count');
    expect((itl.get(series('llama3.2:latest')) ?? 0) + (itl.get(series('qwen2.5:0.5b')) ?? 0)).toBe(
      15,
    );
    expect(
      family(m, 'inferwatch_llm_request_duration_seconds_count').get(series('llama3.2:latest')),
    ).toBe(3);
    expect(family(m, 'inferwatch_llm_requests_running').get(series('llama3.2:latest'))).toBe(0);
    expect(family(m, 'inferwatch_llm_max_concurrency').get(series('llama3.2:latest'))).toBe(4);

    // Where each concept comes from: the proxy fills what Ollama lacks; its models stay its own.
    const sources = family(m, 'inferwatch_llm_metrics_source_info');
    const source = (concept: string) =>
      [...sources.keys()]
        .find((k) => k.includes(`concept="${concept}"`))
        ?.match(/metrics_source="(\w+)",approx="(\w+)"/)
        ?.slice(1);
    expect(source('time_to_first_token')).toEqual(['proxy', 'false']);
    expect(source('prompt_tokens')).toEqual(['proxy', 'false']);
    expect(source('requests_waiting')).toEqual(['proxy', 'true']);
    expect(source('models')).toEqual(['native', 'false']);
    expect(source('kv_cache_usage')).toEqual(['none', 'false']);
    expect(family(m, 'inferwatch_llm_model_loaded').get(series('llama3.2:latest'))).toBe(1);
  });

  it('counts requests waiting past the runtime concurrency while they wait', async () => {
    const ollama = await ollamaUpstream(['llama3.2:latest'], { firstTokenMs: 400, tokens: 2 });
    const a = await startAgent(ollama.url, { max_concurrency: 1 });
    const pending = [1, 2, 3].map(() => send(a.port, '/api/generate', GENERATE));
    await eventually(
      async () =>
        (await a.metrics()).get(`inferwatch_llm_requests_waiting${series('llama3.2:latest')}`) ===
        2,
    );
    expect(
      (await a.metrics()).get(`inferwatch_llm_requests_running${series('llama3.2:latest')}`),
    ).toBe(1);
    await Promise.all(pending);
  });
});

describe('a proxied llama.cpp: what it reports itself keeps its own source', () => {
  it('tokens and slots stay native, counted once; the proxy adds latency and outcomes under the served model', async () => {
    const start = readFixture(
      'proxy',
      'llama.cpp_v1-chat-completions_sse_gpt-oss-20b_b6103_start.txt',
    );
    const final = readFixture(
      'proxy',
      'llama.cpp_v1-chat-completions_sse_gpt-oss-20b_b6097_final-usage.txt',
    );
    const routes: Record<string, string> = {
      '/props': readFixture('runtimes', 'llama.cpp_props_constructed.json'),
      '/metrics': readFixture('runtimes', 'llama.cpp_metrics_constructed_full.txt'),
      '/v1/models':
        '{"object":"list","data":[{"id":"qwen2.5-coder-7b","object":"model","owned_by":"llamacpp"}]}',
    };
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (req.method === 'GET' && routes[path] !== undefined) {
        res.writeHead(200, {
          'content-type': path === '/metrics' ? 'text/plain; version=0.0.4' : 'application/json',
        });
        res.end(routes[path]);
        return;
      }
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(start);
        setTimeout(() => res.end(`${final}data: [DONE]\n\n`), 30);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const a = await startAgent(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      runtime: 'llamacpp',
      name: 'llama',
    });
    // A client may send any model name; llama-server serves its one model whatever it is.
    for (const model of ['gpt-4o', 'whatever']) {
      const answer = await send(
        a.port,
        '/v1/chat/completions',
        JSON.stringify({ model, stream: true, messages: [] }),
      );
      expect(answer.status).toBe(200);
    }
    const m = await a.metrics();
    const llama = '{runtime="llamacpp",target="llama",model="qwen2.5-coder-7b"';
    const count = (name: string) =>
      [...family(m, name).keys()].filter((k) => k.includes('target="llama"')).length;
    // One series each: native figures, no second series from the proxy.
    for (const name of [
      'inferwatch_llm_prompt_tokens_total',
      'inferwatch_llm_generation_tokens_total',
      'inferwatch_llm_requests_running',
    ])
      expect(count(name), name).toBe(1);
    expect(m.get(`inferwatch_llm_requests_total${llama},outcome="ok"}`)).toBe(2);
    expect(m.get(`inferwatch_llm_time_to_first_token_seconds_count${llama}}`)).toBe(2);
    expect([...m.keys()].some((k) => k.includes('gpt-4o') || k.includes('whatever'))).toBe(false);
    const sources = family(m, 'inferwatch_llm_metrics_source_info');
    const sourceOf = (concept: string) =>
      [...sources.keys()]
        .find((k) => k.includes('target="llama"') && k.includes(`concept="${concept}"`))
        ?.match(/metrics_source="(\w+)"/)?.[1];
    expect(sourceOf('prompt_tokens')).toBe('native');
    expect(sourceOf('requests_running')).toBe('native');
    expect(sourceOf('time_to_first_token')).toBe('proxy');
    expect(sourceOf('request_outcomes')).toBe('proxy');
  });
});

describe('transparent', () => {
  /** An upstream that records what it got and answers a fixed, oddly chunked stream. */
  function rawUpstream(answer: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void) {
    const got: { method: string; url: string; rawHeaders: string[]; body: Buffer }[] = [];
    const server: Server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        got.push({
          method: req.method ?? '',
          url: req.url ?? '',
          rawHeaders: req.rawHeaders,
          body,
        });
        // The runtimes collector's reads of it find no runtime API; only what the test sends does.
        if (req.method === 'GET' && !(req.url ?? '').includes('=')) {
          res.writeHead(404).end();
          return;
        }
        answer(req, res, body);
      });
    });
    return {
      got,
      async listen() {
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        cleanup.push(
          () =>
            new Promise<void>((r) => {
              server.closeAllConnections();
              server.close(() => r());
            }),
        );
        return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      },
    };
  }

  it('passes method, path, query, headers and body unchanged, and the answer byte for byte, unbuffered', async () => {
    // UTF-8 split across writes, CRLF, a NUL, an SSE comment, an event with no data.
    const pieces = [
      Buffer.from(': keep-alive\r\n\r\n'),
      Buffer.from(`data: {"choices":[{"delta":{"content":"${MARKER_ANSWER} \u00e9`).subarray(0, -1),
      Buffer.from('\u00e9').subarray(1),
      Buffer.from('"}}]}\n\n\u0000\nevent: x\n\ndata: [DONE]\n\n'),
    ];
    let release: () => void = () => undefined;
    const upstream = rawUpstream((_req, res) => {
      res.writeHead(200, [
        'Content-Type',
        'text/event-stream',
        'X-Odd-CASE',
        'kept',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
      ]);
      res.write(pieces[0]);
      // The rest waits until the client has the first piece: no buffering in between.
      release = () => {
        for (const p of pieces.slice(1)) res.write(p);
        res.end();
      };
    });
    const a = await startAgent(await upstream.listen(), { runtime: 'vllm', name: 'raw' });
    const body = JSON.stringify({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: MARKER_PROMPT }],
    });
    const answer = await send(a.port, `/v1/chat/completions?token=${MARKER_QUERY}&a=%20b`, body, {
      headers: { 'X-Request-ID': 'abc', Authorization: 'Bearer k', 'Accept-Encoding': 'identity' },
      onChunk: () => release(),
    });
    expect(answer.body.equals(Buffer.concat(pieces))).toBe(true);
    expect(answer.chunkTimes.length).toBeGreaterThan(1);
    const got = upstream.got.find((g) => g.method === 'POST');
    expect(got?.method).toBe('POST');
    expect(got?.url).toBe(`/v1/chat/completions?token=${MARKER_QUERY}&a=%20b`);
    expect(got?.body.toString()).toBe(body);
    const sent = pairs(got?.rawHeaders ?? []);
    expect(sent).toContainEqual(['X-Request-ID', 'abc']);
    expect(sent).toContainEqual(['Authorization', 'Bearer k']);
    // No header of the proxy's own but Host, the upstream's (as a reverse proxy sends it).
    expect(
      sent
        .map(([k]) => k.toLowerCase())
        .filter(
          (k) =>
            ![
              'x-request-id',
              'authorization',
              'accept-encoding',
              'content-type',
              'content-length',
              'host',
              'connection',
            ].includes(k),
        ),
    ).toEqual([]);
    const back = pairs(answer.rawHeaders);
    expect(back).toContainEqual(['X-Odd-CASE', 'kept']);
    expect(back.filter(([k]) => k === 'Set-Cookie').map(([, v]) => v)).toEqual(['a=1', 'b=2']);
    expect(back.map(([k]) => k.toLowerCase())).not.toContain('via');

    // Nothing of the content, the prompt or the query reaches the metrics or the log.
    const everything = (await a.text()) + a.logs.join('') + JSON.stringify(a.agent.statuses());
    for (const marker of [MARKER_PROMPT, MARKER_ANSWER, MARKER_QUERY])
      expect(everything).not.toContain(marker);
  });

  it('carries large bodies both ways unchanged', async () => {
    const big = Buffer.alloc(24 * 1024 * 1024, 'a');
    const upstream = rawUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        Buffer.concat([
          Buffer.from('{"response":"'),
          Buffer.alloc(16 * 1024 * 1024, 'b'),
          Buffer.from('","done":true,"eval_count":3}'),
        ]),
      );
    });
    const a = await startAgent(await upstream.listen());
    const body = Buffer.concat([
      Buffer.from('{"model":"llama3.2","prompt":"'),
      big,
      Buffer.from('","stream":false}'),
    ]);
    const answer = await send(a.port, '/api/generate', body);
    expect(answer.status).toBe(200);
    expect(sha(upstream.got.find((g) => g.method === 'POST')?.body ?? Buffer.alloc(0))).toBe(
      sha(body),
    );
    expect(answer.body.length).toBe(16 * 1024 * 1024 + 42);
    const m = await a.metrics();
    expect(m.get(`inferwatch_llm_generation_tokens_total${series('llama3.2:latest')}`)).toBe(3);
  });

  it('sends the upstream its own host unless preserve_host, and never goes elsewhere', async () => {
    const upstream = rawUpstream((_req, res) => res.end('ok'));
    const url = await upstream.listen();
    const a = await startAgent(url);
    await send(a.port, 'http://evil.example/api/tags?x=1', undefined, {
      headers: { Host: 'evil.example' },
    });
    const got = upstream.got.find((g) => g.url.includes('x=1'));
    expect(got?.url).toBe('/api/tags?x=1');
    expect(pairs(got?.rawHeaders ?? []).find(([k]) => k.toLowerCase() === 'host')?.[1]).toBe(
      new URL(url).host,
    );
    const b = await startAgent(url, { preserve_host: true });
    await send(b.port, '/api/tags?y=2', undefined, { headers: { Host: 'client.example' } });
    const kept = upstream.got.find((g) => g.url.includes('y=2'));
    expect(pairs(kept?.rawHeaders ?? []).find(([k]) => k.toLowerCase() === 'host')?.[1]).toBe(
      'client.example',
    );
  });
});

describe('failures: reported, measured, and the client sees what it would without the proxy', () => {
  it('a client that leaves aborts the runtime request and counts as aborted', async () => {
    const ollama = await ollamaUpstream(['llama3.2:latest'], {
      firstTokenMs: 10,
      tokenIntervalMs: 100,
      tokens: 50,
    });
    const a = await startAgent(ollama.url);
    await send(a.port, '/api/chat', CHAT, {
      onChunk: (_c, res) => res.destroy(),
    });
    await eventually(() => ollama.served.length === 1);
    expect(ollama.served[0]?.cut).toBe(true);
    expect(ollama.served[0]?.outputs).toBeLessThan(5);
    const m = await a.metrics();
    expect(outcomes(m, 'aborted')).toBe(1);
    expect(m.get(`inferwatch_llm_requests_running${series('llama3.2:latest')}`)).toBe(0);
  });

  it('an answer that breaks off breaks off for the client too, and counts as an error', async () => {
    const ollama = await ollamaUpstream(['llama3.2:latest'], { resetAfter: 2, tokens: 6 });
    const a = await startAgent(ollama.url);
    const answer = await send(a.port, '/api/chat', CHAT);
    expect(answer.error).toBeDefined();
    const m = await a.metrics();
    expect(outcomes(m, 'error')).toBe(1);
    expect(upstreamFailures(m, a.port, 'reset')).toBe(1);
  });

  it('500, 429 and 503 pass through unchanged: error, rejected, rejected', async () => {
    const ollama = await ollamaUpstream(['llama3.2:latest']);
    const a = await startAgent(ollama.url);
    const got: [number, string][] = [];
    for (const status of [500, 429, 503]) {
      ollama.behaviour.status = status;
      const answer = await send(a.port, '/api/generate', GENERATE);
      got.push([answer.status, answer.body.toString()]);
    }
    expect(got.map(([s]) => s)).toEqual([500, 429, 503]);
    expect(got[2]?.[1]).toContain('server busy');
    // Every family of the proxy's own is exported with samples in a real run.
    const text = await a.text();
    for (const def of PROXY_METRICS)
      expect(text, def.name).toMatch(new RegExp(`^${def.name}\\{`, 'm'));
    const m = await a.metrics();
    expect(m.get(routeSeries('inferwatch_proxy_responses_total', a.port, ',code="503"'))).toBe(1);
    expect(outcomes(m, 'error')).toBe(1);
    expect(outcomes(m, 'rejected')).toBe(2);
  });

  it('a runtime silent past idle_timeout_ms: 504 to the client, an error, a timeout', async () => {
    const ollama = await ollamaUpstream(['llama3.2:latest'], { firstTokenMs: 3000 });
    const a = await startAgent(ollama.url, {}, { idle_timeout_ms: 1000 });
    const answer = await send(a.port, '/api/generate', GENERATE);
    expect(answer.status).toBe(504);
    const m = await a.metrics();
    expect(outcomes(m, 'error')).toBe(1);
    expect(upstreamFailures(m, a.port, 'timeout')).toBe(1);
  });

  it('a runtime that is down: 502 to clients, counted as errors while the runtime shows down', async () => {
    const a = await startAgent(`http://127.0.0.1:${await freePort()}`);
    const answer = await send(a.port, '/api/chat', CHAT);
    expect(answer.status).toBe(502);
    const m = await a.metrics();
    expect(m.get(`inferwatch_llm_runtime_up${T}}`)).toBe(0);
    expect(outcomes(m, 'error')).toBe(1);
  });

  it('past max_streams the proxy answers 503 itself and counts the request rejected', async () => {
    const ollama = await ollamaUpstream(['llama3.2:latest'], { firstTokenMs: 500, tokens: 1 });
    const a = await startAgent(ollama.url, {}, { max_streams: 2 });
    const first = [
      send(a.port, '/api/generate', GENERATE),
      send(a.port, '/api/generate', GENERATE),
    ];
    await eventually(
      async () => (await a.metrics()).get(routeSeries('inferwatch_proxy_streams', a.port)) === 2,
    );
    const third = await send(a.port, '/api/generate', GENERATE);
    expect(third.status).toBe(503);
    expect((await Promise.all(first)).map((x) => x.status)).toEqual([200, 200]);
    const m = await a.metrics();
    expect(m.get(routeSeries('inferwatch_proxy_refused_total', a.port))).toBe(1);
    expect(outcomes(m, 'rejected')).toBe(1);
  });

  it('an address in use: the route says so, everything else keeps working', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => taken.close(() => r())));
    const ollama = await ollamaUpstream();
    const port = (taken.address() as AddressInfo).port;
    const config = parseConfig({
      collectors: {
        nvidia_smi: { enabled: false },
        kernel_events: { enabled: false },
        dcgm: { enabled: false },
        runtimes: { discovery: { enabled: false } },
      },
      probe: { enabled: false },
      proxy: { routes: [{ listen: `127.0.0.1:${port}`, upstream: ollama.url, runtime: 'ollama' }] },
    });
    const agent = new Agent(config, {
      runner: {} as never,
      http: httpClient,
      clock: systemClock,
      timers: systemTimers,
      logger: createLogger('error', { write: () => undefined }),
    });
    await agent.start();
    cleanup.push(() => agent.stop());
    const m = seriesByKey((await agent.metrics()).toString());
    expect(
      m.get(
        `inferwatch_proxy_route_up{listen="127.0.0.1:${port}",target="127.0.0.1:${new URL(ollama.url).port}",runtime="ollama"}`,
      ),
    ).toBe(0);
    expect(m.get('inferwatch_collector_success{collector="proxy"}')).toBe(0);
    expect(m.get('inferwatch_collector_success{collector="runtimes"}')).toBe(1);
    expect(
      agent
        .statuses()
        .find((s) => s.name === 'proxy')
        ?.status.lines?.join(),
    ).toContain('in use by another process');
  });
});

describe('a reload', () => {
  it('keeps a route open: a stream in flight goes on, and its counters carry on', async () => {
    const ollama = await ollamaUpstream(['llama3.2:latest'], { tokenIntervalMs: 40, tokens: 10 });
    const a = await startAgent(ollama.url);
    let reloaded: Promise<void> | undefined;
    let next: Agent | undefined;
    let between = 0;
    const streaming = send(a.port, '/api/chat', CHAT, {
      onChunk: () => {
        // As the CLI reloads: the new agent is built on the old state, then the old one stops.
        reloaded ??= (async () => {
          next = new Agent(
            a.agent.config,
            {
              runner: {} as never,
              http: httpClient,
              clock: systemClock,
              timers: systemTimers,
              logger: createLogger('error', { write: () => undefined }),
            },
            a.agent.state,
          );
          await a.agent.stop();
          // Between the old agent's stop and the new one's start the route still answers.
          between = (await send(a.port, '/api/chat', CHAT)).status;
          await next.start();
        })();
      },
    });
    const answer = await streaming;
    await reloaded;
    cleanup.push(() => next?.stop() ?? Promise.resolve());
    expect(answer.error).toBeUndefined();
    expect(answer.body.toString().trim().split('\n')).toHaveLength(11);
    expect(between).toBe(200);
    expect((await send(a.port, '/api/chat', CHAT)).status).toBe(200);
    const m = seriesByKey((await (next as Agent).metrics()).toString());
    expect(outcomes(m, 'ok')).toBe(3);
  });
});

describe('the probe goes through the route', () => {
  it("publishes the route's URL as where the probe sends", async () => {
    const ollama = await ollamaUpstream();
    const a = await startAgent(ollama.url);
    await eventually(() => a.agent.runtimeEndpoints.current.length === 1);
    expect(a.agent.runtimeEndpoints.current[0]).toMatchObject({
      url: ollama.url,
      probeUrl: `http://127.0.0.1:${a.port}`,
    });
  });
});

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
