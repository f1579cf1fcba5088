import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeServer } from '../fake/runtime-server.js';
import { metricCatalogue } from '../../agent/docs/reference.js';
import { FAKE_BIN, MAIN, tempDir } from '../helpers/agent-process.js';
import { fixture, readFixture } from '../helpers/fixtures.js';

const runtime = (name: string) => readFixture('runtimes', name);

/** One simulated runtime of each shape and a dcgm-exporter, so every family has a source. */
const servers = {
  vllm: new RuntimeServer({ '/metrics': runtime('vllm_metrics_v1_constructed_two-engines.txt') }),
  triton: new RuntimeServer({
    '/metrics': runtime('triton_metrics_constructed_newer-backend.txt'),
  }),
  llamacpp: new RuntimeServer({
    '/metrics': runtime('llama.cpp_metrics_constructed_full.txt'),
    '/props': runtime('llama.cpp_props_constructed.json'),
  }),
  dcgm: new RuntimeServer({
    '/metrics': readFixture('dcgm', 'dcgm-exporter_metrics_constructed_h100x3.txt'),
  }),
  ollama: new RuntimeServer({
    '/api/version': runtime('ollama_api-version_constructed.json'),
    '/api/ps': runtime('ollama_api-ps_gemma3-4b.json'),
  }),
};

beforeAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.listen()));
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

/**
 * Families a healthy run on the H100 capture cannot show: [N/A] on that card, source errors, OOM victims and
 * series over the cardinality cap (none happened), the reload gauges (`run` only), and the MIG
 * instance families the constructed DCGM text's one instance row does not carry (the MIG tests
 * hold them to real MIG captures).
 */
const ABSENT_ON_H100 = new Set([
  'inferwatch_gpu_fan_speed_ratio',
  'inferwatch_gpu_retired_pages_pending',
  'inferwatch_source_errors_total',
  'inferwatch_oom_kill_victims_total',
  'inferwatch_collector_series_dropped',
  'inferwatch_config_last_reload_successful',
  'inferwatch_config_last_reload_success_timestamp_seconds',
  'inferwatch_gpu_mig_sm_active_ratio',
  'inferwatch_gpu_mig_sm_occupancy_ratio',
  'inferwatch_gpu_mig_tensor_active_ratio',
  'inferwatch_gpu_mig_dram_active_ratio',
  'inferwatch_gpu_mig_memory_used_bytes',
  'inferwatch_gpu_mig_memory_free_bytes',
  'inferwatch_gpu_mig_memory_reserved_bytes',
  'inferwatch_gpu_mig_memory_total_bytes',
]);

describe('the metric reference against what the agent exports', () => {
  it('every exported family is in the reference with its type, and every listed family is exported', async () => {
    // One runtime log and one runtime of each shape configured, so their families are there too.
    const dir = tempDir();
    writeFileSync(join(dir, 'vllm.log'), '');
    writeFileSync(
      join(dir, 'config.yaml'),
      [
        'cost:',
        '  hardware: { capex_usd: 250000 }',
        '  operations_usd_per_month: 1500',
        '  monthly_budget_usd: 9000',
        '  energy: { price_usd_per_kwh: 0.12, pue: 1.4 }',
        '  api_references: [{ name: gpt-4o-mini, input_usd_per_million: 0.15, output_usd_per_million: 0.6, as_of: 2024-07-18 }]',
        'collectors:',
        `  dcgm: { url: "${servers.dcgm.url}/metrics" }`,
        '  runtime_logs:',
        `    sources: [{ runtime: vllm, path: ${join(dir, 'vllm.log')} }]`,
        '  runtimes:',
        '    discovery: { enabled: false }',
        '    targets:',
        ...Object.entries(servers)
          .filter(([kind]) => kind !== 'dcgm')
          .map(([kind, s]) => `      - { kind: ${kind}, url: "${s.url}" }`),
      ].join('\n'),
    );
    // Not spawnSync: the simulated runtimes answer from this process's event loop.
    const result = await promisify(execFile)(
      process.execPath,
      [MAIN, 'once', '--config', join(dir, 'config.yaml')],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          PATH: `${FAKE_BIN}:/usr/bin:/bin`,
          FAKE_NVSMI_GPUS: '2',
          FAKE_NVSMI_APPS: fixture(
            'nvidia-smi',
            'nvidia-smi_query-compute-apps_csv_h200_drv590.48.01_load.csv',
          ),
        },
      },
    );
    const types = new Map<string, string>();
    const withSamples = new Set<string>();
    for (const line of result.stdout.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      else if (line && !line.startsWith('#')) {
        const name = line.split(/[{ ]/)[0]!;
        const base = name.replace(/_(bucket|sum|count)$/, '');
        withSamples.add(types.get(base) === 'histogram' ? base : name);
      }
    }
    const catalogue = new Map(metricCatalogue().map(({ def }) => [def.name, def.type]));
    const ours = [...types.keys()].filter((n) => n.startsWith('inferwatch_'));
    for (const name of ours) expect(catalogue.get(name), name).toBe(types.get(name));
    for (const name of catalogue.keys()) {
      // The probe runs on its schedule in `run`, never in `once`: probe-agent.test.ts holds
      // every probe family to a real run.
      // The proxy listens in `run` only: proxy.test.ts holds every proxy family to a real run.
      // The evaluation runs in `run` only: evaluation.test.ts holds each of its families to a run.
      // The HTTP server too: agent.test.ts and web-security.test.ts hold inferwatch_web_info.
      if (
        name === 'inferwatch_web_info' ||
        ABSENT_ON_H100.has(name) ||
        name.startsWith('inferwatch_probe_') ||
        name.startsWith('inferwatch_proxy_') ||
        name.startsWith('inferwatch_eval_') ||
        // A cluster's: test/integration/kubernetes.test.ts has them exported.
        name.startsWith('inferwatch_kubernetes_') ||
        name === 'inferwatch_gpu_pod_info'
      )
        continue;
      expect(withSamples.has(name), `${name} has samples`).toBe(true);
    }
    // Only prom-client's standard families besides ours.
    expect(
      [...types.keys()].filter(
        (n) => !n.startsWith('inferwatch_') && !/^(process|nodejs)_/.test(n),
      ),
    ).toEqual([]);
  });
});
