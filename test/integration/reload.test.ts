import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuntimeServer } from '../fake/runtime-server.js';
import {
  agentsKilledAfterEach,
  eventually,
  family,
  FAST_CONFIG,
  type AgentProcess,
} from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';

const agent = agentsKilledAfterEach();
let vllm: RuntimeServer;

beforeEach(async () => {
  vllm = new RuntimeServer({
    '/metrics': readFixture('runtimes', 'vllm_metrics_v1_constructed_two-engines.txt'),
    '/version': '{"version":"0.11.0"}',
  });
  await vllm.listen();
});
afterEach(() => vllm.close());

const PROMPT =
  'inferwatch_llm_prompt_tokens_total{runtime="vllm",target="vllm-a",model="Qwen2.5-7B-Instruct"}';
const ENERGY =
  'inferwatch_gpu_energy_joules_total{gpu="0",uuid="GPU-00000000-1111-2222-3333-000000000000",gpu_model="NVIDIA H100 80GB HBM3"}';
const RELOAD_OK = 'inferwatch_config_last_reload_successful';
const RELOAD_AT = 'inferwatch_config_last_reload_success_timestamp_seconds';

const config = (extra = '') =>
  `${FAST_CONFIG}    targets: [{ kind: vllm, url: "${vllm.url}", name: vllm-a }]\n${extra}`;

function rewrite(a: AgentProcess, text: string): void {
  writeFileSync(join(a.dir, 'config.yaml'), text);
}

async function hup(a: AgentProcess, message: string): Promise<void> {
  const before = a.logs.filter((l) => l.msg === message).length;
  a.child.kill('SIGHUP');
  await eventually(
    async () => a.logs.filter((l) => l.msg === message).length > before,
    10_000,
    message,
  );
}

describe('SIGHUP (systemctl reload)', () => {
  it('applies a valid config without a restart; refuses an invalid one by field and runs on; no counter falls', async () => {
    const a = await agent({ config: config(), env: { FAKE_NVSMI_GPUS: '2' } });
    const first = await eventually(async () => {
      const m = await a.metrics();
      return m.get(PROMPT) !== undefined && (m.get(ENERGY) ?? 0) > 0 ? m : undefined;
    }, 10_000);
    expect(first.get(RELOAD_OK)).toBe(1);
    expect(first.get('inferwatch_collector_success{collector="host"}')).toBe(1);

    // Valid: the host collector switched off, sampling slower, logging quieter.
    rewrite(
      a,
      config()
        .replace('log_level: debug', 'log_level: info')
        .replace('collectors:\n', 'collectors:\n  host: { enabled: false }\n'),
    );
    await hup(a, 'configuration reloaded');
    expect(a.child.exitCode).toBeNull();
    const second = await eventually(async () => {
      const m = await a.metrics();
      return (m.get(ENERGY) ?? 0) > (first.get(ENERGY) ?? 0) ? m : undefined;
    }, 10_000);
    expect(second.get(RELOAD_OK)).toBe(1);
    expect(second.get(RELOAD_AT)).toBeGreaterThanOrEqual(first.get(RELOAD_AT) ?? Infinity);
    // The switched-off source's series are gone, not frozen.
    expect(second.has('inferwatch_collector_success{collector="host"}')).toBe(false);
    expect(family(second, 'inferwatch_host_memory_total_bytes').size).toBe(0);
    // Counters carried over: none fell, none started again from 0.
    expect(second.get(PROMPT)).toBe(first.get(PROMPT));
    expect(second.get(ENERGY)).toBeGreaterThan(first.get(ENERGY) ?? Infinity);
    for (const [series, value] of first)
      if (/_total\{/.test(series) && second.has(series))
        expect(second.get(series), series).toBeGreaterThanOrEqual(value);

    // Invalid: named by field, and the agent goes on as it was.
    rewrite(
      a,
      config()
        .replace('interval_ms: 200', 'interval_ms: -1')
        .replace('log_level: debug', 'log_level: loud'),
    );
    await hup(a, 'reload refused: the configuration is invalid; still running on the previous one');
    const refusal = a.logs.filter((l) => String(l.msg).startsWith('reload refused')).at(-1)!;
    expect(JSON.stringify(refusal.problems)).toContain('collectors.nvidia_smi.interval_ms');
    expect(JSON.stringify(refusal.problems)).toContain('log_level');
    const third = await eventually(async () => {
      const m = await a.metrics();
      return (m.get(ENERGY) ?? 0) > (second.get(ENERGY) ?? 0) ? m : undefined;
    }, 10_000);
    expect(third.get(RELOAD_OK)).toBe(0);
    expect(third.get(RELOAD_AT)).toBe(second.get(RELOAD_AT));
    expect(third.get(PROMPT)).toBe(first.get(PROMPT));
    expect(a.child.exitCode).toBeNull();

    // Mended: reloads again, and no scrape taken meanwhile misses the GPU: a scrape that
    // comes during the reload waits for the new sources.
    rewrite(a, config());
    let scraping = true;
    const seen: (number | undefined)[] = [];
    const scrapes = (async () => {
      while (scraping) seen.push((await a.metrics()).get(ENERGY));
    })();
    await hup(a, 'configuration reloaded');
    seen.push((await a.metrics()).get(ENERGY));
    scraping = false;
    await scrapes;
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.filter((v) => v === undefined)).toEqual([]);
    const fourth = await eventually(async () => {
      const m = await a.metrics();
      return m.get(RELOAD_OK) === 1 && m.has('inferwatch_collector_success{collector="host"}')
        ? m
        : undefined;
    }, 10_000);
    expect(fourth.get(ENERGY)).toBeGreaterThanOrEqual(third.get(ENERGY) ?? Infinity);
    // A SIGTERM after all that still ends it cleanly.
    expect(await a.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('a change that needs a restart (listen) is said, and the rest applied', async () => {
    const a = await agent({ config: config(), env: { FAKE_NVSMI_GPUS: '1' } });
    await eventually(async () => (await a.metrics()).get(PROMPT) !== undefined, 10_000);
    rewrite(a, `listen: "127.0.0.1:1"\n${config()}`);
    await hup(a, 'configuration reloaded');
    // --listen on the command line wins over the file, as at start: nothing to restart for.
    expect(a.logs.some((l) => l.field === 'listen')).toBe(false);
    rewrite(a, config().replace('collectors:\n', 'web: { max_connections: 7 }\ncollectors:\n'));
    await hup(a, 'configuration reloaded');
    expect(a.logs.some((l) => l.field === 'web.max_connections')).toBe(true);
    expect((await a.get('/healthz')).status).toBe(200);
  }, 30_000);
});
