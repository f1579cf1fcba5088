import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_METRICS } from '../../agent/probe/metrics.js';
import { chat, sse, StreamServer, type Step } from '../fake/stream-server.js';
import { agentsKilledAfterEach, MAIN, tempDir } from '../helpers/agent-process.js';
import { requireTool } from '../helpers/tools.js';
import { readFixture } from '../helpers/fixtures.js';

/** A vLLM that answers every generation the same way, with llama.cpp-style timings at the end. */
const STREAM: Step[] = [
  { at: 20, write: chat.role() },
  { at: 60, write: chat.content('42') },
  { at: 90, write: chat.content(' 43') },
  {
    at: 120,
    write: sse({
      choices: [{ index: 0, delta: { content: ' 44' }, finish_reason: 'length' }],
      timings: { prompt_n: 21, prompt_ms: 12.5, predicted_n: 3, predicted_ms: 70 },
    }),
  },
  { at: 130, write: chat.usage(21, 3) },
  { at: 131, write: chat.done() },
];

const runtime = new StreamServer()
  .json('/metrics', readFixture('runtimes', 'vllm_metrics_v1_constructed_two-engines.txt'))
  .json('/v1/models', { object: 'list', data: [{ id: '/models/Qwen2.5-7B-Instruct' }] })
  .script('/v1/chat/completions', { steps: STREAM });
/** A second vLLM whose model has gone wrong: fast, well-formed, and mistaken. */
const WRONG: Step[] = [
  { at: 10, write: chat.content('forty-one') },
  { at: 20, write: chat.finish('stop') },
  { at: 21, write: chat.done() },
];
const wrong = new StreamServer()
  .json('/metrics', readFixture('runtimes', 'vllm_metrics_v1_constructed_two-engines.txt'))
  .json('/v1/models', { object: 'list', data: [{ id: '/models/Qwen2.5-7B-Instruct' }] })
  .script('/v1/chat/completions', { steps: WRONG });
let url = '';
let wrongUrl = '';
beforeAll(async () => {
  [url, wrongUrl] = await Promise.all([runtime.listen(), wrong.listen()]);
});
afterAll(() => Promise.all([runtime.close(), wrong.close()]));

/** The agent probing `targets` every 5 s; `probe` holds the skip thresholds and the canary. */
function config(
  targets = `{ kind: vllm, url: "${url}", name: vllm-a }`,
  probe = `
  skip_when: { requests_waiting_above: 100, kv_cache_usage_above: 1 }
  canary: { every_runs: 2 }`,
): string {
  return `
collectors:
  nvidia_smi: { enabled: false }
  kernel_events: { enabled: false }
  dcgm: { enabled: false }
  runtimes:
    discovery: { enabled: false }
    targets: [${targets}]
probe:
  interval_s: 5
  jitter_ratio: 0
  timeout_ms: 4000
  stall_ms: 2000
  backoff_max_s: 10${probe}
`;
}

const agent = agentsKilledAfterEach();

async function exposition(get: (p: string) => Promise<Response>): Promise<string> {
  return (await get('/metrics')).text();
}

describe('the probe in the running agent', () => {
  it('probes on its schedule, exports every probe family, and serves /probe from the cache', async (ctx) => {
    const a = await agent({
      config: config(
        `{ kind: vllm, url: "${url}", name: vllm-a }, { kind: vllm, url: "${wrongUrl}", name: vllm-b }`,
      ),
      noNvidiaSmi: true,
    });
    const deadline = Date.now() + 20_000;
    let text = '';
    while (Date.now() < deadline) {
      text = await exposition(a.get);
      if ((text.match(/^inferwatch_probe_canary_match\{/gm) ?? []).length === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const labels = 'target="vllm-a",model="Qwen2.5-7B-Instruct"';
    expect(text).toContain(`inferwatch_probe_success{${labels},probe="latency"} 1`);
    expect(text).toContain(`inferwatch_probe_success{${labels},probe="canary"} 1`);
    expect(text).toContain(
      `inferwatch_probe_canary_match{${labels},probe="canary",canary="addition"} 1`,
    );
    expect(text).toContain(`inferwatch_probe_output_tokens{${labels},probe="latency"} 3`);
    expect(text).toContain(
      `inferwatch_probe_server_seconds{${labels},probe="latency",phase="decode"} 0.07`,
    );
    expect(text).toContain(
      `inferwatch_probe_info{${labels},probe="latency",runtime="vllm",api="openai-chat",token_count_source="usage"} 1`,
    );
    expect(text).toMatch(
      /inferwatch_probe_runs_total\{target="vllm-a",model="Qwen2.5-7B-Instruct",probe="latency",result="success",reason=""\} [1-9]/,
    );
    expect(text).toContain(
      'inferwatch_probe_requests_total{runtime="vllm",target="vllm-a",model="Qwen2.5-7B-Instruct"}',
    );
    for (const def of PROBE_METRICS)
      expect(text, def.name).toMatch(new RegExp(`^${def.name}\\{`, 'm'));
    // A scrape never makes a generation.
    const posts = runtime.received.filter((r) => r.method === 'POST').length;
    for (let i = 0; i < 5; i++) await exposition(a.get);
    const probe = await a.get('/probe?target=vllm-a&module=canary');
    expect(probe.status).toBe(200);
    const body = await probe.text();
    expect(body).toMatch(/^probe_success 1$/m);
    expect(body).toMatch(/^probe_failed_due_to_regex 0$/m);
    expect(body).toMatch(/^probe_llm_ttft_seconds 0\.0\d+$/m);
    expect(runtime.received.filter((r) => r.method === 'POST').length).toBeLessThanOrEqual(
      posts + 1,
    );
    // By URL too; unknown names and modules are refused without being echoed.
    expect((await a.get(`/probe?target=${encodeURIComponent(url)}`)).status).toBe(200);
    const unknown = await a.get('/probe?target=%3Cscript%3E');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain('script');
    expect((await a.get('/probe?target=vllm-a&module=nope')).status).toBe(400);
    expect((await a.get('/probe')).status).toBe(400);
    // Marked as synthetic, so runtime logs can tell probe traffic apart.
    const post = runtime.received.find((r) => r.method === 'POST')!;
    expect(post.headers['x-request-id']).toMatch(/^inferwatch-probe-[0-9a-f-]{36}$/);
    expect(JSON.parse(post.body)).toMatchObject({ user: 'inferwatch-probe', temperature: 0 });
    // The mistaken model: its latency probe passes, its canary does not, and says so.
    const b = 'target="vllm-b",model="Qwen2.5-7B-Instruct"';
    expect(text).toContain(`inferwatch_probe_success{${b},probe="latency"} 1`);
    expect(text).toContain(`inferwatch_probe_success{${b},probe="canary"} 0`);
    expect(text).toContain(
      `inferwatch_probe_canary_match{${b},probe="canary",canary="addition"} 0`,
    );
    expect(text).toContain(
      `inferwatch_probe_runs_total{${b},probe="canary",result="failure",reason="content_mismatch"} 1`,
    );
    const warning = a.logs.find((l) => l.msg === 'canary answered wrong');
    expect(warning).toMatchObject({ target: 'vllm-b', canary: 'addition', answer_chars: 9 });
    expect(warning?.prompt_sha256).toMatch(/^[0-9a-f]{16}$/);
    // No prompt and no answer in the logs.
    const logs = JSON.stringify(a.logs);
    expect(logs).not.toContain('17 + 25');
    expect(logs).not.toContain('Count from');
    expect(logs).not.toContain('forty');

    if (!requireTool('promtool', 'prometheus', () => ctx.skip())) return;
    expect(execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' })).toBe(
      '',
    );
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe(
      '',
    );
  }, 30_000);
});

describe('llama.cpp started with --alias, idle, its KV cache full of cached prompts', () => {
  // llama-server's OpenAI stream carries its timings: 5 prompt tokens, 4 of them from its cache.
  const LLAMA_STREAM: Step[] = [
    { at: 10, write: chat.content('42') },
    {
      at: 20,
      write: sse({
        choices: [{ index: 0, delta: {}, finish_reason: 'length' }],
        usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
        timings: { cache_n: 4, prompt_n: 1, prompt_ms: 2, predicted_n: 2, predicted_ms: 9 },
      }),
    },
    { at: 21, write: chat.done() },
  ];
  const llama = new StreamServer()
    .json('/health', { status: 'ok' })
    .json('/props', readFixture('runtimes', 'llama.cpp_props_alias_constructed.json'))
    .json('/v1/models', readFixture('runtimes', 'llama.cpp_v1-models_alias_constructed.json'))
    .json(
      '/metrics',
      readFixture('runtimes', 'llama.cpp_metrics_constructed_full.txt')
        .replace('llamacpp:requests_processing 1', 'llamacpp:requests_processing 0')
        .replace('llamacpp:requests_deferred 2', 'llamacpp:requests_deferred 0') +
        '# TYPE llamacpp:kv_cache_usage_ratio gauge\nllamacpp:kv_cache_usage_ratio 0.89\n',
    )
    .script('/v1/chat/completions', { steps: LLAMA_STREAM });
  let llamaUrl = '';
  beforeAll(async () => {
    llamaUrl = await llama.listen();
  });
  afterAll(() => llama.close());

  it('is probed (its live load is its slots), and one model label joins llm_* and probe_*; probe tokens counted as it counts them', async () => {
    const a = await agent({
      config: config(
        `{ kind: llamacpp, url: "${llamaUrl}", name: llama }`,
        `
  skip_when: { requests_waiting_above: 0, kv_cache_usage_above: 0.8 }
  canary: { every_runs: 1000 }`,
      ),
      noNvidiaSmi: true,
    });
    const deadline = Date.now() + 20_000;
    let text = '';
    while (Date.now() < deadline) {
      text = await exposition(a.get);
      if (/^inferwatch_probe_success\{/m.test(text)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const model = 'model="qwen2.5-coder"';
    expect(text).toContain(`inferwatch_probe_success{target="llama",${model},probe="latency"} 1`);
    expect(text).toContain(
      `inferwatch_llm_prompt_tokens_total{runtime="llamacpp",target="llama",${model}} 143`,
    );
    expect(text).not.toMatch(/model="[^"]*\.gguf"/);
    expect(text).not.toMatch(/reason="saturated_kv_cache"/);
    // What the model saw, and what llama.cpp's prompt counter counted (cached tokens left out).
    expect(text).toContain(
      `inferwatch_probe_input_tokens{target="llama",${model},probe="latency"} 5`,
    );
    expect(text).toMatch(
      new RegExp(
        `^inferwatch_probe_input_tokens_total\\{runtime="llamacpp",target="llama",${model}\\} 1$`,
        'm',
      ),
    );
    expect(text).toContain(
      `inferwatch_probe_consecutive_skips{target="llama",${model},probe="latency"} 0`,
    );
  }, 30_000);
});

describe('inferwatch probe', () => {
  it('probes the configured runtime once and prints the figures for a person; exit 0', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.yaml'), config());
    // Not spawnSync: the simulated runtime answers from this process's event loop.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [MAIN, 'probe', '--config', join(dir, 'config.yaml'), '--module', 'canary'],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(stdout).toContain(
      `vllm-a (${url}): vllm, model Qwen2.5-7B-Instruct, canary probe via /v1/chat/completions`,
    );
    expect(stdout).toMatch(/result +success/);
    expect(stdout).toMatch(/time to first token +0\.0\d\d s/);
    expect(stdout).toMatch(/output tokens +3 \(server's usage\)/);
    expect(stdout).toMatch(/canary +addition: right answer/);
  });

  it('exits 1 and says why when the named runtime is not there', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.yaml'), config());
    const run = promisify(execFile)(
      process.execPath,
      [MAIN, 'probe', '--config', join(dir, 'config.yaml'), '--target', 'nope'],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    await expect(run).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('no probed runtime is named nope; runtimes found: vllm-a'),
    });
  });
});
