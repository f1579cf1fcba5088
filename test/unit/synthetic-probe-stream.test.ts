import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../agent/shared/dialect.js';
import type { GenerationApi } from '../../agent/shared/generation-api.js';
import { ndjsonFramer, sseFramer } from '../../agent/shared/framing.js';
import { StreamMeasure } from '../../agent/probe/measure.js';
import { readFixture } from '../helpers/fixtures.js';

/** Feeds timed pieces of a stream through the dialect's framing into a measurement. */
function measure(api: GenerationApi, pieces: readonly (readonly [number, string])[], startMs = 0) {
  const dialect = DIALECTS[api];
  const m = new StreamMeasure(startMs);
  let now = startMs;
  const seen = { events: 0, done: 0, keepAlives: 0, malformed: 0, errors: 0 };
  const sink = {
    payload(value: unknown) {
      seen.events++;
      m.event(now, dialect.read(value));
    },
    done: () => void seen.done++,
    keepAlive: () => void seen.keepAlives++,
    errorEvent: () => void seen.errors++,
    malformed: () => void seen.malformed++,
  };
  const framer = dialect.framing === 'sse' ? sseFramer(sink) : ndjsonFramer(sink);
  for (const [at, text] of pieces) {
    now = at;
    framer.push(text);
  }
  framer.end();
  return { ...m.result(), seen };
}

const whole = (text: string): [number, string][] => [[0, text]];

describe('real captured streams parse to the right counts', () => {
  it("Ollama's OpenAI stream: 7 events, 6 with text, no usage, so the count is an estimate", () => {
    const r = measure(
      'openai-chat',
      whole(readFixture('probe', 'openai-sse_ollama-v1-chat-completions_qwen2.5-coder-7b.txt')),
    );
    expect(r.seen).toEqual({ events: 7, done: 0, keepAlives: 0, malformed: 0, errors: 0 });
    expect(r.outputEvents).toBe(6);
    expect(r.outputTokens).toBe(6);
    expect(r.tokenSource).toBe('estimate');
    expect(r.finish).toBe('stop');
    expect(r.answer).toBe('My name is Neo Vim.');
  });

  it("vLLM's tool-call stream, replayed at its captured times: the role-only chunk is not the first token", () => {
    const text = readFixture(
      'probe',
      'openai-sse_vllm-v1-chat-completions_tool-call_client-trace-log.txt',
    );
    // "[55.529]sec [TRACE] on_stdout data: data: {...}": the client's stamp, then the SSE line.
    const pieces: [number, string][] = [];
    for (const line of text.split('\n')) {
      const stamped = /^\[(\d+\.\d+)\]sec \[TRACE\] on_stdout data: (data: .*)$/.exec(line);
      if (stamped) pieces.push([Number(stamped[1]) * 1000, `${stamped[2]}\n\n`]);
      else if (line.startsWith('data: ')) pieces.push([pieces.at(-1)![0], `${line}\n\n`]);
    }
    const r = measure('openai-chat', pieces, 55_500);
    expect(r.seen).toMatchObject({ events: 6, done: 1, malformed: 0 });
    expect(r.firstEventMs).toBeCloseTo(29, 6); // the role-only chunk
    expect(r.ttftMs).toBeCloseTo(115, 6); // the first tool-call delta
    expect(r.e2eMs).toBeCloseTo(211, 6); // the last delta, not the empty finishing chunk
    expect(r.maxGapMs).toBeCloseTo(75, 6);
    expect(r.outputEvents).toBe(4);
    expect(r.finish).toBe('tool_calls');
    expect(r.answer).toBe('');
  });

  it("llama-server's own /completion: native timings give 15 tokens where 6 events carried text", () => {
    const lines = readFixture(
      'probe',
      'llama.cpp_completion-stream-native_final-timings_qwen2.5-coder-7b.txt',
    )
      .split('\n')
      .filter((l) => l.trim() !== '');
    // The capture dropped the SSE prefix; llama-server sends each object as `data: {...}`.
    const r = measure(
      'llamacpp-completion',
      lines.map((l, i) => [i * 6, `data: ${l}\n\n`] as [number, string]),
    );
    expect(r.seen).toMatchObject({ events: 8, malformed: 0 });
    expect(r.outputEvents).toBe(6);
    expect(r.outputTokens).toBe(15);
    expect(r.tokenSource).toBe('native');
    // The model saw 1963 prompt tokens (tokens_evaluated); 8 came from its prompt cache, so it
    // evaluated 1955 (timings.prompt_n), which is what its prompt-token counter counts.
    expect(r.inputTokens).toBe(1963);
    expect(r.evaluatedInputTokens).toBe(1955);
    expect(r.finish).toBe('eos');
    expect(r.server?.promptS).toBeCloseTo(0.139716, 9);
    expect(r.server?.decodeS).toBeCloseTo(0.088739, 9);
    expect(r.tpotMs).toBeCloseTo((30 - 0) / 14, 9);
  });

  it("llama-server's answer to a repeated prompt: the model saw 5 tokens, it evaluated 1 (prompt cache)", () => {
    const answer = JSON.stringify(
      JSON.parse(
        readFixture('probe', 'llama.cpp_completion-nonstream_cached-prompt_gemma-3-4b.json'),
      ),
    );
    const r = measure('llamacpp-completion', whole(`data: ${answer}\n\n`));
    expect(r.inputTokens).toBe(5);
    expect(r.evaluatedInputTokens).toBe(1);
    expect(r.outputTokens).toBe(51);
    expect(r.tokenSource).toBe('native');
  });

  it("Ollama's NDJSON: eval_count and the nanosecond timings of the final object", () => {
    const r = measure(
      'ollama-chat',
      whole(
        readFixture('probe', 'ollama_api-generate_ndjson_chunk-and-final_qwen2.5-coder-3b.ndjson'),
      ),
    );
    expect(r.seen).toMatchObject({ events: 2, malformed: 0 });
    expect(r.outputEvents).toBe(1);
    expect(r.outputTokens).toBe(12);
    expect(r.tokenSource).toBe('native');
    expect(r.inputTokens).toBe(19);
    expect(r.server).toEqual({
      inputTokens: 19,
      outputTokens: 12,
      promptS: 0.005,
      decodeS: 0.106,
      loadS: 0.0165507,
    });
    expect(r.finish).toBe('stop');
  });

  it("Ollama /api/chat's final object with a tool call is output, finished, with its counts", () => {
    const event = DIALECTS['ollama-chat'].read(
      JSON.parse(
        readFixture('probe', 'ollama_api-chat_nonstream-final_tool-call_qwen2.5-coder-7b.json'),
      ),
    );
    expect(event).toMatchObject({
      output: true,
      text: '',
      finish: 'stop',
      native: { inputTokens: 155, outputTokens: 81 },
    });
  });
});

describe('stream rules', () => {
  const vllm = [
    [
      10,
      'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}\n\n',
    ],
    [20, ': ping\n\n'],
    [
      100,
      'data: {"choices":[{"index":0,"delta":{"content":"1 2 3"},"finish_reason":null}],"usage":null}\n\n',
    ],
    [
      150,
      'data: {"choices":[{"index":0,"delta":{"content":""},"finish_reason":null}],"usage":null}\n\n',
    ],
    [
      160,
      'data: {"choices":[{"index":0,"delta":{"content":" 4 5"},"finish_reason":"length"}],"usage":null}\n\n',
    ],
    [
      400,
      'data: {"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25}}\n\n',
    ],
    [401, 'data: [DONE]\n\n'],
  ] as const;

  it('TTFT skips role-only, empty and keep-alive events; E2E ignores the usage chunk; TPOT divides by usage', () => {
    const r = measure('openai-chat', vllm);
    expect(r.seen).toMatchObject({ events: 5, done: 1, keepAlives: 1 });
    expect(r).toMatchObject({
      firstEventMs: 10,
      ttftMs: 100,
      e2eMs: 160,
      maxGapMs: 60,
      outputEvents: 2,
    });
    expect(r).toMatchObject({
      outputTokens: 5,
      tokenSource: 'usage',
      inputTokens: 20,
      finish: 'length',
    });
    expect(r.tpotMs).toBe((160 - 100) / 4);
  });

  it('gives the same figures however the bytes are split across reads', () => {
    const text = vllm.map(([, t]) => t).join('');
    for (const size of [1, 3, 7, 64]) {
      const pieces: [number, string][] = [];
      for (let i = 0; i < text.length; i += size) pieces.push([0, text.slice(i, i + size)]);
      const r = measure('openai-chat', pieces);
      expect(r).toMatchObject({
        outputEvents: 2,
        outputTokens: 5,
        finish: 'length',
        answer: '1 2 3 4 5',
      });
      expect(r.seen).toMatchObject({ events: 5, done: 1, keepAlives: 1, malformed: 0 });
    }
  });

  it('reasoning deltas are output; tool calls are output; `data:` without a space parses', () => {
    const r = measure('openai-chat', [
      [5, 'data:{"choices":[{"delta":{"reasoning_content":"think"}}]}\n\n'],
      [9, 'data: {"choices":[{"delta":{"content":"42"},"finish_reason":"stop"}]}\n\n'],
    ]);
    expect(r).toMatchObject({ ttftMs: 5, e2eMs: 9, outputEvents: 2, answer: '42', finish: 'stop' });
  });

  it('an in-band error, an error event, and a body that is not a stream are told apart', () => {
    expect(
      measure('openai-chat', whole('data: {"error":{"message":"boom"}}\n\n')).streamError,
    ).toBe(true);
    expect(measure('openai-chat', whole('event: error\ndata: x\n\n')).seen.errors).toBe(1);
    expect(measure('openai-chat', whole('data: <html>\n\n')).seen).toMatchObject({
      events: 0,
      malformed: 1,
    });
    expect(measure('ollama-chat', whole('{"error":"model not found"}\n')).streamError).toBe(true);
  });

  it('a last SSE event without its blank line still counts; one cut off mid-line is malformed', () => {
    const last = 'data: {"choices":[{"delta":{"content":"42"},"finish_reason":"stop"}]}';
    const ended = measure('openai-chat', whole(`${last}\n`));
    expect(ended.seen).toMatchObject({ events: 1, malformed: 0 });
    expect(ended).toMatchObject({ outputEvents: 1, finish: 'stop', answer: '42' });
    expect(measure('openai-chat', whole(last)).seen).toMatchObject({ events: 1, malformed: 0 });
    const cut = measure('openai-chat', whole(last.slice(0, 40)));
    expect(cut.seen).toMatchObject({ events: 0, malformed: 1 });
  });

  it('an NDJSON line without a newline at the end still counts', () => {
    const r = measure(
      'ollama-chat',
      whole('{"message":{"content":"hi"},"done":false}\n{"done":true,"eval_count":1}'),
    );
    expect(r).toMatchObject({ outputEvents: 1, outputTokens: 1, finish: 'stop' });
  });
});

describe('request bodies', () => {
  const spec = { model: 'm', prompt: 'p', maxTokens: 16, user: 'inferwatch-probe', keepAliveS: 90 };
  it('OpenAI chat asks for usage in the stream, at temperature 0, marked with user', () => {
    expect(DIALECTS['openai-chat'].body(spec)).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'p' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 16,
      temperature: 0,
      n: 1,
      user: 'inferwatch-probe',
    });
    expect(DIALECTS['openai-chat'].body({ ...spec, user: undefined })).not.toHaveProperty('user');
  });
  it('Ollama gets num_predict, temperature 0 and the keep-alive that leaves its expiry alone', () => {
    expect(DIALECTS['ollama-chat'].body(spec)).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'p' }],
      stream: true,
      options: { temperature: 0, num_predict: 16 },
      keep_alive: 90,
    });
  });
  it('completion endpoints get the question as plain text, with no chat template to frame it', () => {
    expect(DIALECTS['openai-completions'].body(spec)).toMatchObject({
      prompt: 'Question: p\nAnswer:',
      max_tokens: 16,
      temperature: 0,
    });
    expect(DIALECTS['llamacpp-completion'].body(spec)).toEqual({
      prompt: 'Question: p\nAnswer:',
      n_predict: 16,
      temperature: 0,
      stream: true,
    });
  });
});
