import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricCatalogue } from '../../agent/docs/reference.js';
import { FAKE_BIN, MAIN, tempDir } from '../helpers/agent-process.js';
import { fixture } from '../helpers/fixtures.js';

/**
 * Families a healthy run on the H100 capture cannot show: [N/A] on that card, CPU utilization
 * (it needs two readings further apart than `once` takes), source errors and OOM victims (none
 * happened).
 */
const ABSENT_ON_H100 = new Set([
  'inferwatch_gpu_fan_speed_ratio',
  'inferwatch_gpu_retired_pages_pending',
  'inferwatch_host_cpu_utilization_ratio',
  'inferwatch_source_errors_total',
  'inferwatch_oom_kill_victims_total',
]);

describe('the metric reference against what the agent exports', () => {
  it('every exported family is in the reference with its type, and every listed family is exported', () => {
    // One runtime log configured, so the runtime-log family is there too.
    const dir = tempDir();
    writeFileSync(join(dir, 'vllm.log'), '');
    writeFileSync(
      join(dir, 'config.yaml'),
      `collectors:\n  runtime_logs:\n    sources: [{ runtime: vllm, path: ${join(dir, 'vllm.log')} }]\n`,
    );
    const result = spawnSync(
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
    expect(result.status).toBe(0);
    const types = new Map<string, string>();
    const withSamples = new Set<string>();
    for (const line of result.stdout.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      else if (line && !line.startsWith('#')) withSamples.add(line.split(/[{ ]/)[0]!);
    }
    const catalogue = new Map(metricCatalogue().map(({ def }) => [def.name, def.type]));
    const ours = [...types.keys()].filter((n) => n.startsWith('inferwatch_'));
    for (const name of ours) expect(catalogue.get(name), name).toBe(types.get(name));
    for (const name of catalogue.keys()) {
      if (ABSENT_ON_H100.has(name)) continue;
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
