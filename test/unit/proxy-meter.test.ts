import { describe, expect, it } from 'vitest';
import * as M from '../../agent/collectors/runtimes/metrics.js';
import { DIALECTS } from '../../agent/shared/dialect.js';
import type { GenerationApi } from '../../agent/shared/generation-api.js';
import { adapterFor } from '../../agent/collectors/runtimes/adapters/index.js';
import { generation, servedModelName } from '../../agent/proxy/inference.js';
import { JsonFieldPicker } from '../../agent/proxy/json-fields.js';
import { TrafficLedger } from '../../agent/proxy/ledger.js';
import { framingOf, RequestMeter } from '../../agent/proxy/meter.js';
import { readFixture } from '../helpers/fixtures.js';

/** A runtime's generation paths and naming, as its adapter declares them. */
const surface = (kind: string) => adapterFor(kind).generation;

const proxyFixture = (name: string) => readFixture('proxy', name);

const figures = (ledger: TrafficLedger) => ledger.figures(undefined);
const value = (ledger: TrafficLedger, name: string, labels: Record<string, string> = {}) =>
  figures(ledger).find(
    (f) => f.def.name === name && Object.entries(labels).every(([k, v]) => f.labels[k] === v),
  );

/**
 * One request through a meter: a body naming `model`, then the capture's text as the answer,
 * one chunk per event 10 ms apart (the first 100 ms after the request), read by `api`'s reader.
 */
function metered(api: GenerationApi, contentType: string, answer: string, model = 'm') {
  const ledger = new TrafficLedger('ollama', 't', 10);
  const meter = new RequestMeter(surface('ollama'), DIALECTS[api], ledger, 0);
  meter.request(Buffer.from(`{"model":"${model}","stream":true}`));
  meter.requestSent();
  meter.answer(200, contentType);
  const events = answer.split(/(?<=\n\n)|(?<=\n)(?=\{)/).filter((e) => e !== '');
  events.forEach((event, i) => meter.chunk(Buffer.from(event), 100 + 10 * i));
  meter.answerEnded(100 + 10 * events.length);
  meter.finish(100 + 10 * events.length);
  return ledger;
}

describe("answers on real captures, read by the probe's readers of each API", () => {
  it("Ollama's /v1 tool-call stream: output in tool_calls alone counts, the finish chunk does not", () => {
    const ledger = metered(
      'openai-chat',
      'text/event-stream',
      proxyFixture('ollama_v1-chat-completions_sse_tool-calls_qwen2.5-coder-7b.txt'),
    );
    // Two outputs: a first token at 100 ms, one gap of 10 ms; no usage, so estimated.
    expect(value(ledger, M.TIME_TO_FIRST_TOKEN.name)?.histogram).toMatchObject({
      count: 1,
      sum: 0.1,
    });
    expect(value(ledger, M.INTER_TOKEN_LATENCY.name)?.histogram?.count).toBe(1);
    expect(value(ledger, M.GENERATION_TOKENS.name)?.value).toBe(2);
    expect(ledger.concepts(undefined).get('generation_tokens')).toBe(true);
  });

  it("llama-server: the role-only delta (content null) is not output, reasoning_content is; the last event's usage is the count", () => {
    const start = proxyFixture('llama.cpp_v1-chat-completions_sse_gpt-oss-20b_b6103_start.txt');
    const reasoning = proxyFixture(
      'llama.cpp_v1-chat-completions_sse_gpt-oss-120b_b6881_reasoning-start.txt',
    );
    const final = proxyFixture(
      'llama.cpp_v1-chat-completions_sse_gpt-oss-20b_b6097_final-usage.txt',
    );
    for (const opening of [start, reasoning]) {
      const ledger = metered(
        'openai-chat',
        'text/event-stream',
        `${opening}${final}data: [DONE]\n\n`,
      );
      // The first event carries nothing: the first token is the second, at 110 ms.
      expect(value(ledger, M.TIME_TO_FIRST_TOKEN.name)?.histogram).toMatchObject({
        count: 1,
        sum: 0.11,
      });
      expect(value(ledger, M.PROMPT_TOKENS.name)?.value).toBe(1085);
      expect(value(ledger, M.GENERATION_TOKENS.name)?.value).toBe(247);
      expect(value(ledger, M.REQUESTS.name, { outcome: 'ok' })?.value).toBe(1);
    }
  });

  it("Ollama's native lines: the token line is output; the final one (no message) carries the counts", () => {
    for (const [file, prompt, completion] of [
      ['ollama_api-chat_ndjson_docs-api-md_constructed.ndjson', 61, 468],
      ['ollama_api-generate_ndjson_docs-api-md_constructed.ndjson', 26, 259],
    ] as const) {
      const ledger = metered('ollama-chat', 'application/x-ndjson', proxyFixture(file));
      expect(value(ledger, M.TIME_TO_FIRST_TOKEN.name)?.histogram?.count).toBe(1);
      expect(value(ledger, M.INTER_TOKEN_LATENCY.name)?.histogram?.count).toBe(0);
      expect(value(ledger, M.PROMPT_TOKENS.name)?.value).toBe(prompt);
      expect(value(ledger, M.GENERATION_TOKENS.name)?.value).toBe(completion);
    }
  });

  it("Ollama's unstreamed answers: the counts after text with newlines, quotes and a tool call", () => {
    for (const [file, prompt, completion] of [
      ['ollama_api-generate_json_suffix_docs-api-md.json', 17, 63],
      ['ollama_api-chat_json_tool-call_docs-api-md.json', 122, 33],
    ] as const) {
      const ledger = metered('ollama-chat', 'application/json; charset=utf-8', proxyFixture(file));
      expect(value(ledger, M.TIME_TO_FIRST_TOKEN.name)?.histogram?.count).toBe(0);
      expect(value(ledger, M.PROMPT_TOKENS.name)?.value).toBe(prompt);
      expect(value(ledger, M.GENERATION_TOKENS.name)?.value).toBe(completion);
    }
  });

  it('an error event inside a 200 stream makes the request an error', () => {
    const ledger = metered(
      'openai-chat',
      'text/event-stream',
      'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\ndata: {"error":{"message":"boom"}}\n\n',
    );
    expect(value(ledger, M.REQUESTS.name, { outcome: 'error' })?.value).toBe(1);
  });

  it('framing by Content-Type', () => {
    expect(framingOf('text/event-stream; charset=utf-8')).toBe('sse');
    expect(framingOf('application/x-ndjson')).toBe('ndjson');
    expect(framingOf('application/json; charset=utf-8')).toBe('json');
    expect(framingOf(undefined)).toBe('other');
  });
});

describe('JsonFieldPicker', () => {
  const pick = (text: string, keys: string[], pieces = 1) => {
    const picker = new JsonFieldPicker(new Set(keys));
    const size = Math.ceil(text.length / pieces);
    for (let i = 0; i < text.length; i += size) picker.feed(text.slice(i, i + size));
    return Object.fromEntries(picker.fields);
  };

  it('reads the counts after an answer with newlines, quotes and nested objects, fed in any pieces', () => {
    for (const file of [
      'ollama_api-generate_json_suffix_docs-api-md.json',
      'ollama_api-chat_json_tool-call_docs-api-md.json',
    ]) {
      const text = proxyFixture(file);
      const whole = JSON.parse(text) as Record<string, unknown>;
      for (const pieces of [1, 7, text.length])
        expect(pick(text, ['model', 'prompt_eval_count', 'eval_count', 'message'], pieces)).toEqual(
          {
            model: whole.model,
            prompt_eval_count: whole.prompt_eval_count,
            eval_count: whole.eval_count,
            ...(whole.message !== undefined && { message: whole.message }),
          },
        );
    }
  });

  it('finds a model named after a prompt of megabytes, keeping nothing of the prompt', () => {
    const prompt = 'x'.repeat(3 * 1024 * 1024) + '\\" \\\\ "model": "fake" }';
    const body = `{"messages":[{"role":"user","content":"${prompt}"}],"stream":true,"model":"llama3.2"}`;
    expect(pick(body, ['model', 'stream'], 50)).toEqual({ model: 'llama3.2', stream: true });
  });

  it('leaves out what is nested, too long or not an object', () => {
    expect(pick('{"options":{"model":"inner"}}', ['model'])).toEqual({});
    expect(pick(`{"model":"${'m'.repeat(5000)}"}`, ['model'])).toEqual({});
    expect(pick('[{"model":"a"}]', ['model'])).toEqual({});
    expect(pick('not json', ['model'])).toEqual({});
  });
});

describe('which requests are generations', () => {
  it("by each runtime's own paths, POST only, the query left out", () => {
    const api = (runtime: string, method: string, url: string) => {
      const found = generation(surface(runtime), method, url);
      return found ? (found.dialect?.api ?? 'duration and outcome only') : undefined;
    };
    expect(api('ollama', 'POST', '/api/chat')).toBe('ollama-chat');
    expect(api('ollama', 'POST', '/api/generate')).toBe('ollama-chat');
    expect(api('ollama', 'POST', '/v1/chat/completions?x=1')).toBe('openai-chat');
    expect(api('ollama', 'GET', '/api/chat')).toBeUndefined();
    expect(api('ollama', 'POST', '/api/embed')).toBeUndefined();
    expect(api('llamacpp', 'POST', '/completion')).toBe('llamacpp-completion');
    expect(api('tgi', 'POST', '/generate_stream')).toBe('duration and outcome only');
    expect(api('triton', 'POST', '/v2/models/llama/generate_stream')).toBe(
      'duration and outcome only',
    );
    expect(api('vllm', 'POST', '/api/chat')).toBeUndefined();
  });

  it("Ollama's model names as /api/ps lists them: ':latest' where no tag is given", () => {
    expect(servedModelName(surface('ollama'), 'llama3.2')).toBe('llama3.2:latest');
    expect(servedModelName(surface('ollama'), 'gemma3:4b')).toBe('gemma3:4b');
    expect(servedModelName(surface('ollama'), 'hf.co/org/model')).toBe('hf.co/org/model:latest');
    expect(servedModelName(surface('vllm'), 'meta-llama/Llama-3.1-8B')).toBe(
      'meta-llama/Llama-3.1-8B',
    );
    expect(servedModelName(surface('ollama'), 'bad\nname')).toBeUndefined();
    expect(servedModelName(surface('ollama'), 42)).toBeUndefined();
    // One model per process, whatever name a client sends: counted under the served one.
    expect(servedModelName(surface('llamacpp'), 'gpt-4o')).toBe('');
  });
});

describe('RequestMeter', () => {
  it('measures a streamed Ollama chat: TTFT, gaps, duration and the counts of its final line', () => {
    const ledger = new TrafficLedger('ollama', 'ollama-a', 10);
    const meter = new RequestMeter(surface('ollama'), DIALECTS['ollama-chat'], ledger, 1000);
    meter.request(Buffer.from('{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}'));
    meter.requestSent();
    expect(value(ledger, M.REQUESTS_RUNNING.name, { model: 'llama3.2:latest' })?.value).toBe(1);
    meter.answer(200, 'application/x-ndjson');
    const lines = proxyFixture('ollama_api-chat_ndjson_docs-api-md_constructed.ndjson');
    const [first, last] = lines.split('\n');
    meter.chunk(Buffer.from(`${first}\n${first}`), 1300);
    meter.chunk(Buffer.from(`\n`), 1350);
    meter.chunk(Buffer.from(`${last}\n`), 1400);
    meter.answerEnded(1400);
    meter.finish(1410);
    const ttft = value(ledger, M.TIME_TO_FIRST_TOKEN.name, { model: 'llama3.2:latest' });
    expect(ttft?.histogram).toMatchObject({ count: 1, sum: 0.3 });
    expect(value(ledger, M.INTER_TOKEN_LATENCY.name, {})?.histogram).toMatchObject({
      count: 1,
      sum: 0.05,
    });
    expect(value(ledger, M.REQUEST_DURATION.name, {})?.histogram?.sum).toBeCloseTo(0.41);
    expect(value(ledger, M.PROMPT_TOKENS.name, {})?.value).toBe(61);
    expect(value(ledger, M.GENERATION_TOKENS.name, {})?.value).toBe(468);
    expect(value(ledger, M.REQUESTS.name, { outcome: 'ok' })?.value).toBe(1);
    expect(value(ledger, M.REQUESTS_RUNNING.name, {})?.value).toBe(0);
    expect(ledger.concepts(undefined).get('generation_tokens')).toBe(false);
  });

  it('estimates tokens where the runtime sends no usage, and says so', () => {
    const ledger = new TrafficLedger('ollama', 'o', 10);
    const meter = new RequestMeter(surface('ollama'), DIALECTS['openai-chat'], ledger, 0);
    const body = Buffer.from('{"model":"qwen2.5-coder:7b-instruct-q8_0","stream":true}');
    meter.request(body);
    meter.requestSent();
    meter.answer(200, 'text/event-stream');
    meter.chunk(
      Buffer.from(proxyFixture('ollama_v1-chat-completions_sse_tool-calls_qwen2.5-coder-7b.txt')),
      10,
    );
    meter.answerEnded(10);
    meter.finish(10);
    expect(value(ledger, M.GENERATION_TOKENS.name, {})?.value).toBe(2);
    expect(value(ledger, M.PROMPT_TOKENS.name, {})?.value).toBe(Math.ceil(body.length / 4));
    expect(ledger.concepts(undefined).get('generation_tokens')).toBe(true);
    expect(ledger.concepts(undefined).get('prompt_tokens')).toBe(true);
  });

  it('outcomes: runtime errors, overload, a client leaving, a broken answer, the proxy at its cap', () => {
    const ledger = new TrafficLedger('ollama', 'o', 10);
    const run = (status: number, cut?: Parameters<RequestMeter['finish']>[1], complete = true) => {
      const meter = new RequestMeter(surface('ollama'), DIALECTS['ollama-chat'], ledger, 0);
      meter.request(Buffer.from('{"model":"m:1"}'));
      meter.requestSent();
      if (status) meter.answer(status, 'application/json');
      meter.chunk(Buffer.from('{"done":true,"eval_count":7}'), 4);
      if (complete && status) meter.answerEnded(5);
      meter.finish(5, cut);
    };
    run(500);
    run(404);
    run(429);
    run(503);
    run(200, { by: 'client' }, false);
    run(200, { by: 'upstream', reason: 'reset' }, false);
    run(0, { by: 'upstream', reason: 'unreachable' }, false);
    run(0, { by: 'proxy', reason: 'max_streams' }, false);
    run(200);
    const outcome = (o: string) => value(ledger, M.REQUESTS.name, { outcome: o })?.value;
    expect([outcome('ok'), outcome('error'), outcome('rejected'), outcome('aborted')]).toEqual([
      1, 4, 3, 1,
    ]);
    // Only the complete answer adds its tokens; failures add none.
    expect(value(ledger, M.GENERATION_TOKENS.name, {})?.value).toBe(7);
  });

  it('splits in flight into running and waiting where the runtime concurrency is known', () => {
    const ledger = new TrafficLedger('ollama', 'o', 10);
    for (const model of ['a:1', 'a:1', 'a:1', 'b:1']) {
      const meter = new RequestMeter(surface('ollama'), DIALECTS['ollama-chat'], ledger, 0);
      meter.request(Buffer.from(`{"model":"${model}"}`));
      meter.requestSent();
    }
    const f = ledger.figures(2);
    const of = (name: string, model: string) =>
      f.find((x) => x.def.name === name && x.labels.model === model)?.value;
    expect([of(M.REQUESTS_RUNNING.name, 'a:1'), of(M.REQUESTS_WAITING.name, 'a:1')]).toEqual([
      1.5, 1.5,
    ]);
    expect([of(M.REQUESTS_RUNNING.name, 'b:1'), of(M.REQUESTS_WAITING.name, 'b:1')]).toEqual([
      0.5, 0.5,
    ]);
    expect(of(M.MAX_CONCURRENCY.name, 'a:1')).toBe(2);
  });

  it('caps the models a client can name; the rest count as "other"', () => {
    const ledger = new TrafficLedger('vllm', 'v', 2);
    for (const model of ['a', 'b', 'c', 'd', 'a']) {
      const meter = new RequestMeter(surface('vllm'), DIALECTS['openai-chat'], ledger, 0);
      meter.request(Buffer.from(`{"model":"${model}"}`));
      meter.requestSent();
      meter.finish(1, { by: 'client' });
    }
    const models = new Set(figures(ledger).map((f) => f.labels.model));
    expect(models).toEqual(new Set(['a', 'b', 'other']));
  });
});
