import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeServer } from '../fake/runtime-server.js';
import { FAKE_BIN, MAIN, family, seriesByKey, tempDir } from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';

const H100 = readFixture('dcgm', 'dcgm-exporter_metrics_constructed_h100x3.txt');
const SMI_GPU0 = 'GPU-00000000-1111-2222-3333-000000000000';
const DCGM_ONLY = 'GPU-7e1c2f3a-5b4d-4c6e-8f90-a1b2c3d4e5f6';

const exporter = new RuntimeServer({ '/metrics': H100 });
beforeAll(() => exporter.listen());
afterAll(() => exporter.close());

/** `inferwatch once` with the fake nvidia-smi (2 GPUs) and the simulated dcgm-exporter. */
async function once(nvidiaSmi: boolean): Promise<string> {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      'collectors:',
      `  nvidia_smi: { enabled: ${nvidiaSmi} }`,
      `  dcgm: { url: "${exporter.url}/metrics" }`,
      '  runtimes: { discovery: { enabled: false } }',
    ].join('\n'),
  );
  // Not spawnSync: the simulated exporter answers from this process's event loop.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [MAIN, 'once', '--config', join(dir, 'config.yaml')],
    {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: `${FAKE_BIN}:/usr/bin:/bin`, FAKE_NVSMI_GPUS: '2' },
    },
  );
  return stdout;
}

function seriesOf(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#'));
}

describe('DCGM beside nvidia-smi, through the built agent', () => {
  it('exports each series once: nvidia-smi for the GPUs it streams, DCGM for the third and for its own families', async () => {
    const text = await once(true);
    const lines = seriesOf(text);
    const names = lines.map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(names.length).toBe(new Set(names).size);
    const s = seriesByKey(text);

    const memory = family(s, 'inferwatch_gpu_memory_used_bytes');
    expect(memory.size).toBe(3);
    // GPU 0's memory is nvidia-smi's (19818 MiB in the H100 capture), not DCGM's 74954 MiB.
    expect([...memory].find(([k]) => k.includes(SMI_GPU0))![1]).toBe(19818 * 1024 * 1024);
    expect([...memory].find(([k]) => k.includes(DCGM_ONLY))![1]).toBe(79802 * 1024 * 1024);

    expect(family(s, 'inferwatch_gpu_sm_active_ratio').size).toBe(3);
    expect(family(s, 'inferwatch_gpu_energy_joules_total').size).toBe(3);
    expect(family(s, 'inferwatch_gpu_info').size).toBe(3);
    // Only nvidia-smi reads clocks it does not share (graphics, video): GPU 2 has DCGM's two.
    const clocks = [...family(s, 'inferwatch_gpu_clock_hertz').keys()];
    expect(clocks.filter((k) => k.includes(DCGM_ONLY)).length).toBe(2);
    expect(s.get('inferwatch_collector_success{collector="dcgm"}')).toBe(1);
  });

  it('without nvidia-smi, DCGM speaks for every GPU', async () => {
    const s = seriesByKey(await once(false));
    const memory = family(s, 'inferwatch_gpu_memory_used_bytes');
    expect(memory.size).toBe(3);
    expect([...memory].find(([k]) => k.includes(SMI_GPU0))![1]).toBe(74954 * 1024 * 1024);
    expect(s.has('inferwatch_collector_success{collector="nvidia_smi"}')).toBe(false);
  });
});
