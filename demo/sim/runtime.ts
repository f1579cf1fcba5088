import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { InferenceEngine, type FinishReason } from './engine.js';
import { renderMetrics, type SimulatedKind } from './exposition.js';
import type { Random } from './random.js';
import { answer, promptTokenCount, tokens } from './toy-model.js';

export interface SimulatedRuntimeOptions {
  readonly kind: SimulatedKind;
  readonly model: string;
  readonly random: Random;
  /** Users' requests a second, on average (default 2). */
  readonly requestsPerSecond?: number;
  /** Requests run at once (default 64; SGLang reports it as max_running_requests). */
  readonly maxConcurrency?: number;
}

const MAX_BODY_BYTES = 1024 * 1024;
const TICK_MS = 250;
/** The versions the simulated servers report until they are upgraded. */
const VERSIONS: Readonly<Record<string, string>> = { vllm: '0.11.0', sglang: '0.5.4' };

/**
 * An OpenAI-compatible LLM runtime on loopback, vLLM or SGLang by its endpoints and metric
 * names: streams answers from a toy model at a realistic pace, serves /metrics from a simulated
 * engine under load, and can be put into incidents (down, failing, saturated, wrong answers, a
 * model swap).
 */
export class SimulatedRuntime {
  private currentEngine: InferenceEngine;
  /** Connections are reset, as when the process is gone. */
  down = false;
  /** Answers are wrong (a broken kernel or chat template). */
  wrongAnswers = false;
  /** Wrong on the evaluation's questions, right on the canaries' (a silent regression). */
  degraded = false;
  private currentModel: string;
  /** Tokens per four characters: tokenizers differ between models. */
  private tokenScale = 1;
  /** Generation requests received (the simulated users' traffic is not sent over HTTP). */
  generations = 0;
  /** How often each prompt (a chat's last user message) was asked: a few distinct ones. */
  readonly asked = new Map<string, number>();
  /** What /version (vLLM) or /server_info (SGLang) says. */
  version: string;
  private readonly server: Server;
  private readonly ticker: NodeJS.Timeout;
  private lastTick = performance.now();

  constructor(readonly options: SimulatedRuntimeOptions) {
    this.currentModel = options.model;
    this.version = VERSIONS[options.kind] ?? '';
    this.currentEngine = this.newEngine();
    this.server = createServer((req, res) => this.handle(req, res));
    this.ticker = setInterval(() => {
      const now = performance.now();
      this.engine.advance((now - this.lastTick) / 1000);
      this.lastTick = now;
    }, TICK_MS);
    this.ticker.unref();
  }

  /** The engine behind it; a restart (a model swap) starts a new one, counters at zero. */
  get engine(): InferenceEngine {
    return this.currentEngine;
  }

  get kind(): SimulatedKind {
    return this.options.kind;
  }

  get model(): string {
    return this.currentModel;
  }

  /** Restarts with another model and its tokenizer: a new engine, its counters from zero. */
  swapModel(model: string, tokenScale: number): void {
    this.currentModel = model;
    this.tokenScale = tokenScale;
    this.currentEngine = this.newEngine();
  }

  /** Back to the model and tokenizer it started with (a new engine if the model had changed). */
  restore(): void {
    if (this.currentModel !== this.options.model) this.swapModel(this.options.model, 1);
    this.tokenScale = 1;
    this.down = false;
    this.wrongAnswers = false;
    this.degraded = false;
    this.version = VERSIONS[this.kind] ?? '';
    this.currentEngine.saturated = false;
    this.currentEngine.failing = false;
  }

  /** An upgrade that makes the model answer worse: a new version, the canaries still right. */
  upgradeDegraded(): void {
    this.version = this.version.replace(/\d+$/, (patch) => String(Number(patch) + 1));
    this.degraded = true;
  }

  /** An upgrade with a new chat template: the same model, the same prompt, other token counts. */
  changeTemplate(tokenScale: number): void {
    this.tokenScale = tokenScale;
  }

  private newEngine(): InferenceEngine {
    return new InferenceEngine({
      requestsPerSecond: this.options.requestsPerSecond ?? 2,
      maxConcurrency: this.options.maxConcurrency ?? 64,
      random: this.options.random,
    });
  }

  /** On loopback; another 127.0.0.0/8 address stands for a pod's own address. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address}:${port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.down) return void req.socket.destroy();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'POST')
      return this.readBody(req, res, (body) => this.generate(path, body, res));
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      return void res.end(renderMetrics(this.kind, this.engine, this.currentModel));
    }
    if (path === '/health') return void res.writeHead(200).end();
    const json = this.info(path);
    if (json === undefined)
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"detail":"Not Found"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  }

  /** The JSON GET endpoints of the runtime this one plays. */
  private info(path: string): unknown {
    const model = this.currentModel;
    const models = {
      object: 'list',
      data: [
        {
          id: model,
          object: 'model',
          created: 1763800000,
          owned_by: this.kind,
          root: model,
          max_model_len: 32768,
        },
      ],
    };
    if (path === '/v1/models') return models;
    if (this.kind === 'vllm') return path === '/version' ? { version: this.version } : undefined;
    if (path === '/server_info' || path === '/get_server_info')
      return {
        version: this.version,
        served_model_name: model,
        model_path: model,
        max_running_requests: this.engine.maxConcurrency,
      };
    if (path === '/model_info' || path === '/get_model_info')
      return { model_path: model, is_generation: true };
    return undefined;
  }

  private readBody(
    req: IncomingMessage,
    res: ServerResponse,
    then: (body: Record<string, unknown>) => void,
  ): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      try {
        const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof body !== 'object' || body === null) throw new Error('not an object');
        then(body as Record<string, unknown>);
      } catch {
        error(res, 400, 'BadRequestError', 'The request body is not a JSON object.');
      }
    });
  }

  private generate(path: string, body: Record<string, unknown>, res: ServerResponse): void {
    this.generations++;
    const chat = path === '/v1/chat/completions';
    if (!chat && path !== '/v1/completions') return error(res, 404, 'NotFoundError', 'Not Found');
    const model = typeof body.model === 'string' ? body.model : this.currentModel;
    if (model !== this.currentModel)
      return error(res, 404, 'NotFoundError', `The model \`${model}\` does not exist.`);
    const prompt = chat ? lastUserText(body.messages) : String(body.prompt ?? '');
    this.asked.set(prompt, (this.asked.get(prompt) ?? 0) + 1);
    const promptTokens = promptTokenCount(prompt, this.tokenScale, chat);
    if (this.engine.failing) {
      this.engine.record({
        promptTokens,
        generationTokens: 0,
        finishReason: 'error',
        e2eSeconds: 0.01,
      });
      return error(
        res,
        500,
        'InternalServerError',
        'EngineCore encountered an issue. See stack trace (above) for the root cause.',
      );
    }
    const maxTokens = Math.min(
      512,
      Math.max(1, Number(body.max_tokens ?? body.max_completion_tokens ?? 64) || 64),
    );
    const quality = this.wrongAnswers ? 'wrong' : this.degraded ? 'degraded' : 'right';
    const out = tokens(answer(prompt, quality), maxTokens);
    const finish: FinishReason = out.truncated ? 'length' : 'stop';
    const { queue, ttft, interToken } = this.engine.timing(promptTokens);
    const started = performance.now();
    const id = `cmpl-${Math.floor(started * 1000).toString(36)}`;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: out.tokens.length,
      total_tokens: promptTokens + out.tokens.length,
    };
    const account = (reason: FinishReason, generated: number) =>
      this.engine.record({
        promptTokens,
        generationTokens: generated,
        finishReason: reason,
        queueSeconds: queue,
        ttftSeconds: ttft,
        interTokenSeconds: interToken,
        e2eSeconds: (performance.now() - started) / 1000,
      });
    const piece = (text: string, reason: string | null) =>
      chat
        ? { index: 0, delta: { content: text }, logprobs: null, finish_reason: reason }
        : { index: 0, text, logprobs: null, finish_reason: reason };
    const object = chat ? 'chat.completion.chunk' : 'text_completion';

    if (body.stream !== true) {
      const timer = setTimeout(
        () => {
          account(finish, out.tokens.length);
          const text = out.tokens.join('');
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              id,
              object: chat ? 'chat.completion' : 'text_completion',
              model,
              choices: [
                chat
                  ? {
                      index: 0,
                      message: { role: 'assistant', content: text },
                      finish_reason: finish,
                    }
                  : { index: 0, text, finish_reason: finish },
              ],
              usage,
            }),
          );
        },
        (ttft + interToken * Math.max(0, out.tokens.length - 1)) * 1000,
      );
      res.on('close', () => clearTimeout(timer));
      return;
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    res.flushHeaders();
    const send = (payload: unknown) =>
      res.write(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    let sent = 0;
    const timers: NodeJS.Timeout[] = [];
    res.on('close', () => {
      timers.forEach(clearTimeout);
      if (!res.writableEnded) account('abort', sent);
    });
    if (chat)
      send({
        id,
        object,
        model,
        choices: [
          {
            index: 0,
            delta: { role: 'assistant', content: '' },
            logprobs: null,
            finish_reason: null,
          },
        ],
      });
    out.tokens.forEach((token, i) => {
      timers.push(
        setTimeout(
          () => {
            sent = i + 1;
            send({
              id,
              object,
              model,
              choices: [piece(token, null)],
              ...(includeUsage ? { usage: null } : {}),
            });
            if (sent < out.tokens.length) return;
            send({
              id,
              object,
              model,
              choices: [
                chat
                  ? { index: 0, delta: {}, logprobs: null, finish_reason: finish }
                  : piece('', finish),
              ],
            });
            if (includeUsage) send({ id, object, model, choices: [], usage });
            send('[DONE]');
            account(finish, sent);
            res.end();
          },
          (ttft + interToken * i) * 1000,
        ),
      );
    });
  }
}

function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  const user = [...messages].reverse().find((m: { role?: unknown }) => m?.role === 'user') as
    { content?: unknown } | undefined;
  if (typeof user?.content === 'string') return user.content;
  if (Array.isArray(user?.content))
    return user.content
      .map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : ''))
      .join('');
  return '';
}

function error(res: ServerResponse, status: number, type: string, message: string): void {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ error: { message, type, code: status } }));
}
