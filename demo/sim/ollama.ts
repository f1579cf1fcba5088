import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { answer, tokens } from './toy-model.js';

/** One request the simulated Ollama served, as it knows it: the truth a proxy must match. */
export interface ServedRequest {
  readonly path: string;
  readonly model: string;
  readonly streamed: boolean;
  /** Output events written; for a streamed answer, one per token. */
  readonly outputs: number;
  readonly promptTokens: number;
  /** performance.now() when the request arrived and when its first output was written. */
  readonly arrivedAt: number;
  readonly firstOutputAt?: number | undefined;
  readonly status: number;
  /** The answer was cut: by the client leaving, or on purpose (`resetAfter`). */
  readonly cut: boolean;
}

export interface OllamaBehaviour {
  /** Milliseconds before the first token (prompt processing, queueing). */
  firstTokenMs: number;
  /** Milliseconds between tokens. */
  tokenIntervalMs: number;
  /** Tokens in an answer to anything but the toy model's questions (which get their answer). */
  tokens: number;
  /** Every generation answered with this status instead (500, 429, 503...). */
  status?: number | undefined;
  /** Streamed answers are cut (the connection reset) after this many tokens. */
  resetAfter?: number | undefined;
  /** Send `usage` in OpenAI streams even without stream_options.include_usage. */
  alwaysUsage?: boolean;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Ollama on loopback, with the wire shapes of its API (compact JSON, one object per line on
 * /api/chat and /api/generate, SSE with `data:` and `[DONE]` on /v1/chat/completions, the
 * final line's prompt_eval_count and eval_count, `usage` only with include_usage) and no
 * metrics endpoint, as Ollama has none. It records the truth of every request it serves.
 */
export class SimulatedOllama {
  readonly served: ServedRequest[] = [];
  behaviour: OllamaBehaviour;
  private readonly server: Server;
  private port = 0;

  constructor(
    readonly models: readonly string[] = ['llama3.2:latest'],
    behaviour: Partial<OllamaBehaviour> = {},
    readonly version = '0.12.6',
  ) {
    this.behaviour = { firstTokenMs: 40, tokenIntervalMs: 5, tokens: 8, ...behaviour };
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const body = await readBody(req);
    if (req.method === 'GET' && path === '/api/version')
      return json(res, 200, { version: this.version });
    if (req.method === 'GET' && path === '/api/tags')
      return json(res, 200, {
        models: this.models.map((name) => ({ name, model: name, size: 2019393189 })),
      });
    if (req.method === 'GET' && path === '/api/ps')
      return json(res, 200, {
        models: this.models.map((name) => ({
          name,
          model: name,
          size: 3_338_801_804,
          size_vram: 3_338_801_804,
          // Ollama's default keep-alive: five minutes after the last request.
          expires_at: new Date(Date.now() + 5 * 60_000).toISOString(),
        })),
      });
    if (req.method !== 'POST' || !GENERATION.has(path))
      return json(res, 404, { error: '404 page not found' });
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return json(res, 400, { error: 'invalid character looking for beginning of value' });
    }
    const arrivedAt = performance.now();
    const openai = path.startsWith('/v1/');
    const asked = typeof request.model === 'string' ? request.model : '';
    const model = asked.includes(':') ? asked : `${asked}:latest`;
    const streamed = openai ? request.stream === true : request.stream !== false;
    const promptTokens = Math.max(1, Math.ceil(body.length / 4));
    const record = (fields: Partial<ServedRequest>) =>
      this.served.push({
        path,
        model,
        streamed,
        outputs: 0,
        promptTokens,
        arrivedAt,
        status: 200,
        cut: false,
        ...fields,
      });
    const b = this.behaviour;
    const words = answerWords(request, b.tokens);
    if (!this.models.includes(model)) {
      record({ status: 404 });
      return json(res, 404, { error: `model "${asked}" not found, try pulling it first` });
    }
    if (b.status !== undefined) {
      record({ status: b.status });
      return json(
        res,
        b.status,
        b.status === 503
          ? { error: 'server busy, please try again.  maximum pending requests exceeded' }
          : { error: 'llama runner process has terminated: exit status 2' },
      );
    }
    const usage = openai
      ? b.alwaysUsage ||
        (typeof request.stream_options === 'object' &&
          request.stream_options !== null &&
          (request.stream_options as Record<string, unknown>).include_usage === true)
      : true;
    const kind: Kind = openai
      ? path === '/v1/completions'
        ? 'completion'
        : 'chat'
      : path === '/api/chat'
        ? 'ollama-chat'
        : 'ollama-generate';

    let left = false;
    res.on('close', () => (left = !res.writableFinished));
    await sleep(b.firstTokenMs);
    if (!streamed) {
      record({ outputs: 0, firstOutputAt: undefined });
      return json(res, 200, finalObject(kind, model, promptTokens, words, false));
    }
    res.writeHead(200, {
      'Content-Type': openai ? 'text/event-stream' : 'application/x-ndjson',
      ...(openai ? { 'Cache-Control': 'no-cache', Connection: 'keep-alive' } : {}),
    });
    let firstOutputAt: number | undefined;
    let outputs = 0;
    for (let i = 0; i < words.length; i++) {
      if (left) break;
      if (b.resetAfter !== undefined && i === b.resetAfter) {
        record({ outputs, firstOutputAt, cut: true });
        res.socket?.destroy();
        return;
      }
      if (i > 0) await sleep(b.tokenIntervalMs);
      if (left) break;
      res.write(frame(kind, tokenObject(kind, model, words[i] as string)));
      outputs++;
      firstOutputAt ??= performance.now();
    }
    if (left) {
      record({ outputs, firstOutputAt, cut: true });
      return;
    }
    if (kind === 'ollama-chat' || kind === 'ollama-generate')
      res.write(frame(kind, finalObject(kind, model, promptTokens, words.slice(0, outputs), true)));
    else {
      res.write(frame(kind, finishChunk(kind, model)));
      if (usage)
        res.write(
          frame(kind, {
            ...chunkHead(kind, model),
            choices: [],
            usage: {
              prompt_tokens: promptTokens,
              completion_tokens: outputs,
              total_tokens: promptTokens + outputs,
            },
          }),
        );
      res.write('data: [DONE]\n\n');
    }
    record({ outputs, firstOutputAt });
    res.end();
  }
}

type Kind = 'chat' | 'completion' | 'ollama-chat' | 'ollama-generate';

const GENERATION = new Set([
  '/api/chat',
  '/api/generate',
  '/v1/chat/completions',
  '/v1/completions',
]);

const DEFAULT_ANSWER = answer('');

/**
 * The toy model's answer to the request's last message or prompt, a token per word: its own
 * answer to the questions it knows (the probe's canaries), `count` words of its default
 * answer otherwise, so users' chats are as long as the simulation wants.
 */
function answerWords(request: Record<string, unknown>, count: number): string[] {
  const messages = Array.isArray(request.messages) ? (request.messages as unknown[]) : [];
  const last = messages.at(-1) as { content?: unknown } | undefined;
  const prompt =
    typeof request.prompt === 'string'
      ? request.prompt
      : typeof last?.content === 'string'
        ? last.content
        : '';
  const options = request.options as { num_predict?: unknown } | undefined;
  const limit =
    typeof options?.num_predict === 'number'
      ? options.num_predict
      : typeof request.max_tokens === 'number'
        ? request.max_tokens
        : 4096;
  const text = answer(prompt);
  if (text !== DEFAULT_ANSWER) return tokens(text, limit).tokens;
  const all = tokens(text, 1000).tokens;
  return Array.from({ length: Math.min(count, limit) }, (_, i) => all[i % all.length] as string);
}

function frame(kind: Kind, object: unknown): string {
  const text = JSON.stringify(object);
  return kind === 'ollama-chat' || kind === 'ollama-generate' ? `${text}\n` : `data: ${text}\n\n`;
}

let sequence = 0;

function chunkHead(kind: Kind, model: string) {
  return {
    id: kind === 'completion' ? `cmpl-${sequence}` : `chatcmpl-${sequence}`,
    object: kind === 'completion' ? 'text_completion' : 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: 'fp_ollama',
  };
}

function tokenObject(kind: Kind, model: string, word: string): unknown {
  const createdAt = new Date().toISOString().replace('Z', '000000Z');
  if (kind === 'ollama-chat')
    return {
      model,
      created_at: createdAt,
      message: { role: 'assistant', content: word },
      done: false,
    };
  if (kind === 'ollama-generate')
    return { model, created_at: createdAt, response: word, done: false };
  if (kind === 'completion')
    return { ...chunkHead(kind, model), choices: [{ index: 0, text: word, finish_reason: null }] };
  return {
    ...chunkHead(kind, model),
    choices: [{ index: 0, delta: { role: 'assistant', content: word }, finish_reason: null }],
  };
}

function finishChunk(kind: Kind, model: string): unknown {
  sequence++;
  if (kind === 'completion')
    return { ...chunkHead(kind, model), choices: [{ index: 0, text: '', finish_reason: 'stop' }] };
  return {
    ...chunkHead(kind, model),
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'stop' }],
  };
}

/** Ollama's last line (streamed) or whole answer (not streamed). */
function finalObject(
  kind: Kind,
  model: string,
  promptTokens: number,
  words: readonly string[],
  streamed: boolean,
): unknown {
  const text = words.join('');
  const count = words.length;
  if (kind === 'chat' || kind === 'completion')
    return {
      ...chunkHead(kind, model),
      object: kind === 'chat' ? 'chat.completion' : 'text_completion',
      choices: [
        kind === 'chat'
          ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }
          : { text, index: 0, finish_reason: 'stop' },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: count,
        total_tokens: promptTokens + count,
      },
    };
  const stats = {
    done: true,
    done_reason: 'stop',
    total_duration: 5043500667,
    load_duration: 5025959,
    prompt_eval_count: promptTokens,
    prompt_eval_duration: 325953000,
    eval_count: count,
    eval_duration: 4709213000,
  };
  const createdAt = new Date().toISOString().replace('Z', '000000Z');
  return kind === 'ollama-chat'
    ? {
        model,
        created_at: createdAt,
        message: { role: 'assistant', content: streamed ? '' : text },
        ...stats,
      }
    : { model, created_at: createdAt, response: streamed ? '' : text, ...stats };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', () => resolve(Buffer.concat(parts)));
  });
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
