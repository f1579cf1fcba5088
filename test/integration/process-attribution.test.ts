import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeServer } from '../fake/runtime-server.js';
import {
  agentsKilledAfterEach,
  eventually,
  family,
  FAST_CONFIG,
  tempDir,
} from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';

const agent = agentsKilledAfterEach();
/** A vLLM in this test process; its listening socket is one of this process's fds. */
const vllm = new RuntimeServer({
  '/metrics': readFixture('runtimes', 'vllm_metrics_v1_constructed_two-engines.txt'),
});
/** vLLM's engine core is a child of its API server: this process's child stands in for it. */
let engineCore: ChildProcess;

beforeAll(async () => {
  await vllm.listen();
  engineCore = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], {
    stdio: 'ignore',
  });
});
afterAll(async () => {
  engineCore.kill('SIGKILL');
  await vllm.close();
});

describe('per-process GPU memory tied to runtimes through the real /proc', () => {
  it('labels the runtime process and its child with the runtime and target, and leaves a stranger unlabelled', async () => {
    const dir = tempDir();
    const apps = join(dir, 'apps.csv');
    const row = (pid: number, name: string, mib: number) =>
      `2026/07/03 22:11:09.916, NVIDIA H100 80GB HBM3, 00000000:10:00.0, 0, GPU-00000000-1111-2222-3333-000000000000, ${pid}, ${name}, ${mib} MiB`;
    writeFileSync(
      apps,
      [
        'timestamp, gpu_name, gpu_bus_id, gpu_serial, gpu_uuid, pid, process_name, used_gpu_memory [MiB]',
        row(process.pid, 'vllm-api-server', 512),
        row(engineCore.pid!, 'VLLM::EngineCore', 70_000),
        row(1, 'init', 64),
      ].join('\n'),
    );
    const a = await agent({
      config: FAST_CONFIG.replace(
        '    discovery: { enabled: false }\n',
        `    discovery: { enabled: false }\n    targets: [{ kind: vllm, url: "${vllm.url}", name: qwen-7b }]\n`,
      ),
      env: { FAKE_NVSMI_APPS: apps },
    });
    const series = await eventually(async () => {
      const memory = family(await a.metrics(), 'inferwatch_gpu_process_memory_used_bytes');
      const labelled = [...memory.keys()].filter((k) => k.includes('runtime="vllm"'));
      return labelled.length === 2 ? memory : undefined;
    }, 20_000);
    const of = (pid: number) => [...series.keys()].find((k) => k.includes(`pid="${pid}"`))!;
    expect(of(process.pid)).toContain('target="qwen-7b"');
    expect(of(engineCore.pid!)).toContain('runtime="vllm",target="qwen-7b"');
    expect(of(1)).toContain('runtime="",target=""');
  });
});
