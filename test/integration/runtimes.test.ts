import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manyModelsExposition } from '../fake/many-models.js';
import { RuntimeServer } from '../fake/runtime-server.js';
import {
  MAIN,
  tempDir,
  agentsKilledAfterEach,
  eventually,
  family,
  type AgentProcess,
} from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';

const runtimeFixture = (name: string) => readFixture('runtimes', name);
const V1 = runtimeFixture('vllm_metrics_v1_constructed_two-engines.txt');
const V0 = runtimeFixture('vllm_metrics_v0_constructed_opt-125m.txt');

const agent = agentsKilledAfterEach();
let vllm: RuntimeServer;
let ollama: RuntimeServer;

beforeEach(async () => {
  vllm = new RuntimeServer({
    '/metrics': V1,
    '/version': '{"version":"0.11.0"}',
    '/v1/models':
      '{"object":"list","data":[{"id":"/models/Qwen2.5-7B-Instruct","owned_by":"vllm"}]}',
  });
  ollama = new RuntimeServer({
    '/': 'Ollama is running',
    '/api/version': runtimeFixture('ollama_api-version_constructed.json'),
    '/api/ps': runtimeFixture('ollama_api-ps_gemma3-4b.json'),
    '/api/tags': runtimeFixture('ollama_api-tags_constructed.json'),
  });
  await Promise.all([vllm.listen(), ollama.listen()]);
});

afterEach(async () => {
  await Promise.all([vllm.close(), ollama.close()]);
});

function config(extra = ''): string {
  const ollamaPort = new URL(ollama.url).port;
  return `
log_level: debug
collectors:
  timeout_ms: 1500
  nvidia_smi: { enabled: false }
  kernel_events: { enabled: false }
  runtimes:
    timeout_ms: 600
    # A cap this small is reached long before the 600 ms request limit even on a loaded
    # machine, so a huge answer reads as too large (down), never as slow (unresponsive).
    max_body_bytes: 1048576
    refresh_interval_s: 10
    targets:
      - { kind: vllm, url: "${vllm.url}", name: vllm-a }
    discovery: { host: 127.0.0.1, ports: [${ollamaPort}], timeout_ms: 2000 }
probe: { enabled: false }
${extra}`;
}

const VLLM_SERIES = '{runtime="vllm",target="vllm-a",model="Qwen2.5-7B-Instruct"}';

/** The first exposition where vllm-a's up is `up`: the read after a change is in within a second or two. */
function runtimeUpIs(
  a: AgentProcess,
  up: number,
): Promise<Awaited<ReturnType<AgentProcess['metrics']>>> {
  return eventually(
    async () => {
      const m = await a.metrics();
      return family(m, 'inferwatch_llm_runtime_up').get('{runtime="vllm",target="vllm-a"}') === up
        ? m
        : undefined;
    },
    5000,
    `vllm-a up ${up}`,
  );
}

async function started(extra?: string): Promise<AgentProcess> {
  const a = await agent({ config: config(extra), noNvidiaSmi: true });
  await eventually(
    async () =>
      family(await a.metrics(), 'inferwatch_llm_model_loaded').get(
        `{runtime="ollama",target="127.0.0.1:${new URL(ollama.url).port}",model="gemma3:latest"}`,
      ) === 1,
    10_000,
    'the discovered Ollama',
  );
  return a;
}

describe('runtimes read by the agent', () => {
  it('normalizes a configured vLLM and a discovered Ollama onto one schema', async () => {
    const a = await started();
    const m = await a.metrics();
    const ollamaTarget = `127.0.0.1:${new URL(ollama.url).port}`;
    expect(family(m, 'inferwatch_llm_runtime_up')).toEqual(
      new Map([
        ['{runtime="vllm",target="vllm-a"}', 1],
        [`{runtime="ollama",target="${ollamaTarget}"}`, 1],
      ]),
    );
    expect(
      family(m, 'inferwatch_llm_runtime_info').get(
        '{runtime="vllm",runtime_version="0.11.0",model="Qwen2.5-7B-Instruct",target="vllm-a",metrics_source="native"}',
      ),
    ).toBe(1);
    expect(
      family(m, 'inferwatch_llm_runtime_info').get(
        `{runtime="ollama",runtime_version="0.11.4",model="gemma3:latest",target="${ollamaTarget}",metrics_source="derived"}`,
      ),
    ).toBe(1);
    expect(family(m, 'inferwatch_llm_requests_waiting').get(VLLM_SERIES)).toBe(5);
    expect(
      family(m, 'inferwatch_llm_requests_total').get(
        '{runtime="vllm",target="vllm-a",model="Qwen2.5-7B-Instruct",outcome="ok",finish_reason="stop"}',
      ),
    ).toBe(150);
    const ttft = family(m, 'inferwatch_llm_time_to_first_token_seconds_bucket');
    expect(ttft.get('{runtime="vllm",target="vllm-a",model="Qwen2.5-7B-Instruct",le="0.25"}')).toBe(
      145,
    );
    expect(ttft.get('{runtime="vllm",target="vllm-a",model="Qwen2.5-7B-Instruct",le="+Inf"}')).toBe(
      161,
    );
    expect(
      family(m, 'inferwatch_llm_metrics_source_info').get(
        '{runtime="vllm",target="vllm-a",concept="max_concurrency",metrics_source="none",approx="false"}',
      ),
    ).toBe(1);
    expect(
      family(m, 'inferwatch_llm_model_memory_bytes').get(
        `{runtime="ollama",target="${ollamaTarget}",model="gemma3:latest",location="vram"}`,
      ),
    ).toBe(5_964_735_424);
    expect(family(m, 'inferwatch_collector_success').get('{collector="runtimes"}')).toBe(1);
    // Scrapers back to back share a read a second; installed models are read with the version
    // at refresh, not at every read.
    const reads = (path: string) => ollama.requests.filter((p) => p === path).length;
    const [ps, tags] = [reads('/api/ps'), reads('/api/tags')];
    const until = Date.now() + 2500;
    let scrapes = 0;
    for (; Date.now() < until; scrapes++) await a.metrics();
    expect(scrapes).toBeGreaterThan(10);
    expect(reads('/api/ps') - ps).toBeGreaterThanOrEqual(2);
    expect(reads('/api/ps') - ps).toBeLessThanOrEqual(4);
    expect(reads('/api/tags')).toBe(tags);
  });

  it('passes promtool check metrics with histograms from runtimes', async (ctx) => {
    if (spawnSync('promtool', ['--version']).error) {
      if (process.env.CI === 'true') throw new Error('promtool is required in CI');
      ctx.skip();
    }
    const a = await started();
    const text = await (await a.get('/metrics')).text();
    expect(text).toContain('# TYPE inferwatch_llm_time_to_first_token_seconds histogram');
    expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe(
      '',
    );
  });

  it.each([
    ['answer 500', { mode: 'status', status: 500 } as const, 'http_500'],
    ['send garbage', { mode: 'garbage' } as const, 'garbage'],
    ['send 50 MB', { mode: 'huge', bytes: 50 * 1024 * 1024 } as const, 'too_large'],
    ['reset connections', { mode: 'reset' } as const, 'unreachable'],
  ])(
    'a runtime that starts to %s is down, and costs only its own series',
    async (_, behaviour, reason) => {
      const a = await started();
      vllm.set(behaviour);
      const m = await runtimeUpIs(a, 0);
      expect(
        family(m, 'inferwatch_llm_runtime_unresponsive').get('{runtime="vllm",target="vllm-a"}'),
      ).toBe(0);
      expect(family(m, 'inferwatch_llm_requests_waiting').get(VLLM_SERIES)).toBeUndefined();
      // Ollama's series are still there.
      expect(family(m, 'inferwatch_llm_model_loaded').size).toBeGreaterThan(0);
      expect(family(m, 'inferwatch_collector_success').get('{collector="runtimes"}')).toBe(0);
      expect(
        family(m, 'inferwatch_source_errors_total').get(
          `{collector="runtimes",reason="${reason}"}`,
        ),
      ).toBeGreaterThanOrEqual(1);
      vllm.set({ mode: 'serve' });
      await eventually(
        async () =>
          family(await a.metrics(), 'inferwatch_llm_requests_waiting').get(VLLM_SERIES) === 5,
        5000,
        'the runtime back',
      );
    },
  );

  it('a runtime that stops listening is down', async () => {
    const a = await started();
    await vllm.close();
    const m = await runtimeUpIs(a, 0);
    expect(
      family(m, 'inferwatch_source_errors_total').get(
        '{collector="runtimes",reason="unreachable"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(family(m, 'inferwatch_llm_requests_waiting').get(VLLM_SERIES)).toBeUndefined();
    // The log says it, and what to do.
    const said = await eventually(() =>
      a.logs.find((l) => l.source === 'runtimes/vllm-a' && l.reason === 'unreachable'),
    );
    expect(said.msg).toMatch(
      /^runtimes\/vllm-a: vllm-a: .*\. What to do: check that the runtime runs/,
    );
    vllm = new RuntimeServer({ '/metrics': V1 }); // afterEach closes it
    await vllm.listen();
  });

  it('busy is not down: a runtime that takes the connection and never answers is unresponsive, served from its last read, and no scrape waits on it', async () => {
    const a = await started();
    const before = await a.metrics();
    const readAt = family(before, 'inferwatch_llm_runtime_last_read_timestamp_seconds').get(
      '{runtime="vllm",target="vllm-a"}',
    );
    expect(readAt).toBeGreaterThan(Date.now() / 1000 - 60);
    vllm.set({ mode: 'hang' });
    // The runtime's request deadline is 600 ms: after it the runtime is known unresponsive.
    const m = await eventually(async () => {
      const now = await a.metrics();
      return family(now, 'inferwatch_llm_runtime_unresponsive').get(
        '{runtime="vllm",target="vllm-a"}',
      ) === 1
        ? now
        : undefined;
    });
    expect(family(m, 'inferwatch_llm_runtime_up').get('{runtime="vllm",target="vllm-a"}')).toBe(1);
    // Its last good figures are still served, with the time they were read.
    expect(family(m, 'inferwatch_llm_requests_waiting').get(VLLM_SERIES)).toBe(5);
    expect(
      family(m, 'inferwatch_llm_runtime_last_read_timestamp_seconds').get(
        '{runtime="vllm",target="vllm-a"}',
      ),
    ).toBeLessThanOrEqual(Date.now() / 1000);
    expect(
      family(m, 'inferwatch_source_errors_total').get(
        '{collector="runtimes",reason="unresponsive"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(family(m, 'inferwatch_collector_success').get('{collector="runtimes"}')).toBe(0);
    expect(
      a.logs.find((l) => l.source === 'runtimes/vllm-a' && l.reason === 'unresponsive')?.msg,
    ).toMatch(/What to do: it takes connections but answers late/);
    // Known to outlast a wait, it is not waited for at all: no scrape comes near
    // collectors.timeout_ms (1500 ms).
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await a.metrics();
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });

  it('a slow runtime does not hold the scrape: its last read is served, and the slowness counted', async () => {
    const a = await agent({
      noNvidiaSmi: true,
      config: config()
        .replace('timeout_ms: 1500', 'timeout_ms: 300')
        .replace('timeout_ms: 600', 'timeout_ms: 5000'),
    });
    await eventually(
      async () =>
        family(await a.metrics(), 'inferwatch_llm_requests_waiting').get(VLLM_SERIES) === 5,
      5000,
      'a first read',
    );
    const slowSince = Date.now() / 1000;
    // Slower than the test waits for the slowness to be counted, however busy the machine: a
    // slow read that ended meanwhile would be a success (the timeout is 5 s), and served.
    vllm.set({ mode: 'slow', delayMs: 4000 });
    // The next read, a second on at most, runs past the next scrape: said, and no scrape waits.
    let slowest = 0;
    const m = await eventually(async () => {
      const t0 = performance.now();
      const now = await a.metrics();
      slowest = Math.max(slowest, performance.now() - t0);
      return family(now, 'inferwatch_source_errors_total').get(
        '{collector="runtimes",reason="slow"}',
      ) === 1
        ? now
        : undefined;
    });
    expect(slowest).toBeLessThan(300 + 250 + 400);
    expect(family(m, 'inferwatch_llm_requests_waiting').get(VLLM_SERIES)).toBe(5);
    expect(family(m, 'inferwatch_llm_runtime_up').get('{runtime="vllm",target="vllm-a"}')).toBe(1);
    expect(family(m, 'inferwatch_collector_success').get('{collector="runtimes"}')).toBe(0);
    // The figures served, and the collector's last success, are from before it turned slow.
    const lastSuccess = family(m, 'inferwatch_collector_last_success_timestamp_seconds').get(
      '{collector="runtimes"}',
    );
    const readAt = family(m, 'inferwatch_llm_runtime_last_read_timestamp_seconds').get(
      '{runtime="vllm",target="vllm-a"}',
    );
    // A read in flight as it turned slow may end after; one it answered slowly ends 4 s after.
    expect(readAt).toBeLessThan(slowSince + 4);
    expect(lastSuccess).toBeLessThan(slowSince + 4);
    // The same read, still in flight, is counted once however many scrapes go without it.
    await a.metrics();
    expect(
      family(await a.metrics(), 'inferwatch_source_errors_total').get(
        '{collector="runtimes",reason="slow"}',
      ),
    ).toBe(1);
  });

  it('keeps counters rising through a runtime restart and a switch from V0 to V1 names', async () => {
    vllm.route('/metrics', V0);
    const a = await started();
    const tokens = async () =>
      family(await a.metrics(), 'inferwatch_llm_generation_tokens_total').get(
        '{runtime="vllm",target="vllm-a",model="facebook/opt-125m"}',
      );
    expect(await tokens()).toBe(4800);
    // Restarted: the counter starts again from 100.
    vllm.route(
      '/metrics',
      V0.replace(
        'vllm:generation_tokens_total{model_name="facebook/opt-125m"} 4800.0',
        'vllm:generation_tokens_total{model_name="facebook/opt-125m"} 100.0',
      ),
    );
    await eventually(async () => (await tokens()) !== 4800, 5000, 'the restart read');
    expect(await tokens()).toBe(4900);
    // Upgraded to V1, serving the same model: V1 names only, counters carry on.
    const v1SameModel = V1.replaceAll('/models/Qwen2.5-7B-Instruct', 'facebook/opt-125m');
    vllm.route('/metrics', v1SameModel);
    const m = await eventually(async () => {
      const now = await a.metrics();
      return family(now, 'inferwatch_llm_generation_tokens_total').get(
        '{runtime="vllm",target="vllm-a",model="facebook/opt-125m"}',
      ) !== 4900
        ? now
        : undefined;
    });
    expect(
      family(m, 'inferwatch_llm_generation_tokens_total').get(
        '{runtime="vllm",target="vllm-a",model="facebook/opt-125m"}',
      ),
    ).toBe(4900 + 75_000);
    expect(
      [...family(m, 'inferwatch_llm_inter_token_latency_seconds_count').keys()].filter((k) =>
        k.includes('vllm-a'),
      ),
    ).toHaveLength(1);
    expect(
      family(m, 'inferwatch_llm_kv_cache_usage_ratio').get(
        '{runtime="vllm",target="vllm-a",model="facebook/opt-125m"}',
      ),
    ).toBeCloseTo(0.4, 12);
  });
});

describe('cardinality', () => {
  it('a runtime reporting 5,000 models gets series for 100 (collectors.runtimes.max_models), counts the rest, and doctor says so', async () => {
    const wild = new RuntimeServer({
      '/metrics': manyModelsExposition(5000),
      '/version': '{"version":"0.11.0"}',
    });
    await wild.listen();
    try {
      const cfg = `
collectors:
  nvidia_smi: { enabled: false }
  kernel_events: { enabled: false }
  runtimes:
    targets: [{ kind: vllm, url: "${wild.url}", name: wild }]
    discovery: { enabled: false }
probe: { enabled: false }
`;
      const a = await agent({ config: cfg, noNvidiaSmi: true });
      const m = await eventually(async () => {
        const series = await a.metrics();
        return family(series, 'inferwatch_llm_models_dropped').size > 0 ? series : undefined;
      }, 10_000);
      expect(m.get('inferwatch_llm_models_dropped{runtime="vllm",target="wild"}')).toBe(4900);
      const models = new Set(
        [...m.keys()]
          .filter((k) => k.startsWith('inferwatch_llm_'))
          .flatMap((k) => /model="([^"]*)"/.exec(k)?.[1] ?? []),
      );
      expect(models.size).toBe(100);
      // Bounded: a few dozen series per admitted model, not per reported one.
      expect(m.size).toBeLessThan(6000);

      const dir = tempDir();
      // A tighter cap per family on top: doctor names the families it cut.
      writeFileSync(
        join(dir, 'config.yaml'),
        cfg.replace('collectors:\n', 'collectors:\n  max_series_per_family: 50\n'),
      );
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [MAIN, 'doctor', '--config', join(dir, 'config.yaml')],
        { env: { PATH: '/usr/bin:/bin' }, timeout: 20_000 },
      );
      expect(stdout).toContain('    models left out: 4900 (over collectors.runtimes.max_models)');
      expect(stdout).toMatch(/^ {4}models: org\/model-0, .* and 80 more$/m);
      expect(stdout).toMatch(
        /left out over collectors\.max_series_per_family \(50\): .*\b50 series of inferwatch_llm_requests_waiting\b/,
      );
    } finally {
      await wild.close();
    }
  }, 30_000);
});

describe('doctor and secrets', () => {
  it('doctor lists each runtime: kind, version, models, and native, derived and missing concepts', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.yaml'), config());
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [MAIN, 'doctor', '--config', join(dir, 'config.yaml')],
      { env: { PATH: '/usr/bin:/bin' }, timeout: 20_000 },
    );
    expect(stdout).toMatch(/^runtimes +ok +2 runtimes$/m);
    expect(stdout).toContain(`vllm-a (${vllm.url}): vllm 0.11.0`);
    expect(stdout).toContain('    models: Qwen2.5-7B-Instruct');
    expect(stdout).toContain(
      '    native: requests_waiting, requests_running, kv_cache_usage, preemptions, time_to_first_token, inter_token_latency, request_duration, request_queue, request_phases, request_lengths, prompt_tokens, generation_tokens, request_outcomes, prefix_cache\n    derived: models\n    missing: max_concurrency\n',
    );
    expect(stdout).toContain('    native: models\n    derived: -\n    missing: requests_waiting,');
    expect(stdout).toContain(
      `127.0.0.1:${new URL(ollama.url).port} (${ollama.url}): ollama 0.11.4`,
    );
    expect(stdout).toContain('    models: gemma3:latest');
  });

  it('doctor names each proxy route, its runtime, and what it fills that the runtime lacks', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'config.yaml'),
      config(`proxy:
  routes:
    - { listen: "127.0.0.1:1", upstream: "${ollama.url}", runtime: ollama, name: ollama-p, max_concurrency: 2 }
`),
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [MAIN, 'doctor', '--config', join(dir, 'config.yaml')],
      { env: { PATH: '/usr/bin:/bin' }, timeout: 20_000 },
    );
    // doctor never listens: it says where the route is and that only \`run\` serves it.
    expect(stdout).toMatch(/^proxy +ok +1 route; what each measures: see runtimes$/m);
    expect(stdout).toContain(
      `  127.0.0.1:1 -> ${ollama.url}/ (ollama), target ollama-p; not served here (only 'inferwatch run' with proxy.enabled serves it)`,
    );
    expect(stdout).toContain(`ollama-p (${ollama.url}): ollama 0.11.4`);
    expect(stdout).toContain(
      '    proxy: requests_waiting, requests_running, max_concurrency, time_to_first_token, inter_token_latency, request_duration, prompt_tokens, generation_tokens, request_outcomes\n    missing: kv_cache_usage, preemptions, request_queue, request_phases, request_lengths, prefix_cache\n',
    );
  });

  it('sends the API key from a file as a bearer token, and never logs it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'key'), 's3cret-token\n');
    const a = await agent({
      noNvidiaSmi: true,
      config: config().replace(
        'name: vllm-a }',
        `name: vllm-a, api_key_file: "${join(dir, 'key')}", headers: { X-Tenant: t-123 } }`,
      ),
    });
    await eventually(
      async () =>
        family(await a.metrics(), 'inferwatch_llm_requests_waiting').get(VLLM_SERIES) === 5,
      5000,
    );
    expect(vllm.lastHeaders.authorization).toBe('Bearer s3cret-token');
    expect(vllm.lastHeaders['x-tenant']).toBe('t-123');
    vllm.set({ mode: 'status', status: 401 });
    await eventually(
      async () =>
        family(await a.metrics(), 'inferwatch_llm_runtime_up').get(
          '{runtime="vllm",target="vllm-a"}',
        ) === 0,
      5000,
    );
    const logs = JSON.stringify(a.logs);
    expect(logs).toContain('vllm-a');
    expect(logs).not.toContain('s3cret');
    expect(logs).not.toContain('t-123');
  });
});
