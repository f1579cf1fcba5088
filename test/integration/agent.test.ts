import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  eventually,
  FAKE_BIN,
  family,
  MAIN,
  agentsKilledAfterEach,
  type AgentProcess,
} from '../helpers/agent-process.js';
import { requireTool } from '../helpers/tools.js';
import { fixture } from '../helpers/fixtures.js';

const APPS = fixture('nvidia-smi', 'nvidia-smi_query-compute-apps_csv_h200_drv590.48.01_load.csv');
const agent = agentsKilledAfterEach();

const gpuCount = async (a: AgentProcess) => (await a.metrics()).get('inferwatch_gpu_devices');
const streamStarts = (a: AgentProcess) =>
  a.invocations().filter((l) => l.includes('--query-gpu') && l.includes('-lms')).length;
const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the agent against a fake nvidia-smi', () => {
  it('serves every GPU family of 8 GPUs, per-process memory, and a gzip answer', async () => {
    const a = await agent({ env: { FAKE_NVSMI_GPUS: '8', FAKE_NVSMI_APPS: APPS } });
    await eventually(async () => (await gpuCount(a)) === 8, 10_000, '8 GPUs');
    const series = await eventually(
      async () => {
        const s = await a.metrics();
        return family(s, 'inferwatch_gpu_process_memory_used_bytes').size === 3 ? s : undefined;
      },
      10_000,
      'process memory',
    );
    expect(family(series, 'inferwatch_gpu_info').size).toBe(8);
    // What the alerts' runbook links find a live agent by.
    expect(series.get('inferwatch_web_info{scheme="http"}')).toBe(1);
    expect(series.get('inferwatch_collector_success{collector="nvidia_smi"}')).toBe(1);
    expect(series.get('inferwatch_collector_success{collector="nvidia_smi_processes"}')).toBe(1);
    expect(
      series.get(
        'inferwatch_gpu_memory_used_bytes{gpu="3",uuid="GPU-00000003-1111-2222-3333-000000000003",gpu_model="NVIDIA H100 80GB HBM3"}',
      ),
    ).toBe(19818 * 1048576);
    expect(
      series.get(
        'inferwatch_gpu_process_memory_used_bytes{gpu="0",uuid="GPU-00000000-1111-2222-3333-000000000000",gpu_model="NVIDIA H100 80GB HBM3",pid="10309",process="gpu_burn",runtime="",target=""}',
      ),
    ).toBe(28234 * 1048576);
    // The capture's fan speed is [N/A]: no series at all.
    expect(family(series, 'inferwatch_gpu_fan_speed_ratio').size).toBe(0);

    const zipped = await a.get('/metrics', { 'Accept-Encoding': 'gzip' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    // fetch decodes gzip itself; the body is the exposition either way.
    expect(await zipped.text()).toContain('inferwatch_gpu_devices 8');

    expect((await a.get('/healthz')).status).toBe(200);
    const landing = await (await a.get('/')).text();
    expect(landing).toContain('/metrics');
    expect(landing).toContain('8 GPU(s): NVIDIA H100 80GB HBM3');
    expect((await a.get('/nope')).status).toBe(404);
  });

  it('integrates energy from power draw', async () => {
    const a = await agent();
    const key =
      'inferwatch_gpu_energy_joules_total{gpu="0",uuid="GPU-00000000-1111-2222-3333-000000000000",gpu_model="NVIDIA H100 80GB HBM3"}';
    const first = await eventually(async () => (await a.metrics()).get(key), 10_000, 'energy');
    const t0 = Date.now();
    // A second and a half of it, however long the machine takes to get there.
    const second = await eventually(
      async () => {
        const joules = (await a.metrics()).get(key) ?? first;
        return joules - first >= 631.95 * 1.5 ? joules : undefined;
      },
      10_000,
      'energy to add up',
    );
    const elapsed = (Date.now() - t0) / 1000;
    // The capture draws 631.95 W; the stream's samples are 200 ms apart.
    expect(second - first).toBeGreaterThan(631.95 * (elapsed - 0.6));
    expect(second - first).toBeLessThan(631.95 * (elapsed + 0.6));
  });

  it('keeps one long-lived nvidia-smi per stream: no spawn per scrape', async () => {
    const a = await agent({ env: { FAKE_NVSMI_APPS: APPS } });
    await eventually(async () => (await gpuCount(a)) === 1);
    for (let i = 0; i < 20; i++) await a.metrics();
    const lms = a.invocations().filter((l) => l.includes('-lms'));
    expect(lms.filter((l) => l.includes('--query-gpu'))).toHaveLength(1);
    expect(lms.filter((l) => l.includes('--query-compute-apps'))).toHaveLength(1);
  });

  it('a hung nvidia-smi: GPU series dropped, failure reported, /metrics fast, stream restarted', async () => {
    const a = await agent();
    await eventually(async () => (await gpuCount(a)) === 1);
    const firstPid = Number(
      a
        .invocations()
        .find((l) => l.includes('--query-gpu') && l.includes('-lms'))!
        .split(' ')[0],
    );
    a.control('hang');
    await eventually(
      async () =>
        (await a.metrics()).get(
          'inferwatch_source_errors_total{collector="nvidia_smi",reason="silent"}',
        ),
      5000,
      'the watchdog',
    );
    const t0 = performance.now();
    const series = await a.metrics();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(series.get('inferwatch_gpu_devices')).toBeUndefined();
    expect(family(series, 'inferwatch_gpu_info').size).toBe(0);
    expect(series.get('inferwatch_collector_success{collector="nvidia_smi"}')).toBe(0);
    expect(series.get('inferwatch_collector_success{collector="host"}')).toBe(1);
    // The wedged process is killed, not left behind.
    await eventually(() => !pidAlive(firstPid), 5000, 'the hung nvidia-smi to be killed');
    a.control('ok');
    await eventually(async () => (await gpuCount(a)) === 1, 10_000, 'recovery');
    expect(streamStarts(a)).toBeGreaterThanOrEqual(2);
  });

  it('nvidia-smi exiting: restarted with backoff, failure counted', async () => {
    const a = await agent();
    await eventually(async () => (await gpuCount(a)) === 1);
    a.control('exit');
    await eventually(
      async () =>
        (await a.metrics()).get(
          'inferwatch_source_errors_total{collector="nvidia_smi",reason="exited"}',
        ),
      5000,
    );
    await eventually(() => streamStarts(a) >= 3, 10_000, 'restarts');
    expect((await a.metrics()).get('inferwatch_gpu_devices')).toBeUndefined();
    a.control('');
    await eventually(async () => (await gpuCount(a)) === 1, 10_000, 'recovery');
  });

  it('a driver error drops the data at once and restarts', async () => {
    const a = await agent();
    await eventually(async () => (await gpuCount(a)) === 1);
    a.control('driver-error');
    await eventually(async () =>
      (await a.metrics()).get(
        'inferwatch_source_errors_total{collector="nvidia_smi",reason="driver_error"}',
      ),
    );
    // Either stream (GPUs, processes) may meet the error first; the GPU stream's own next
    // sample, 200 ms on, drops its data: within 2 s, or the test fails.
    await eventually(
      async () => family(await a.metrics(), 'inferwatch_gpu_info').size === 0,
      2000,
      'the GPU data to be dropped',
    );
    expect(a.logs.some((l) => l.reason === 'driver_error' && l.level === 40)).toBe(true);
  });

  it('garbage lines are skipped and counted; the GPUs stay', async () => {
    const a = await agent();
    await eventually(async () => (await gpuCount(a)) === 1);
    a.control('garbage');
    const series = await eventually(async () => {
      const s = await a.metrics();
      return (s.get('inferwatch_source_errors_total{collector="nvidia_smi",reason="bad_line"}') ??
        0) >= 3
        ? s
        : undefined;
    });
    expect(series.get('inferwatch_gpu_devices')).toBe(1);
    expect(series.get('inferwatch_collector_success{collector="nvidia_smi"}')).toBe(1);
    // One warning per minute, not one per line.
    expect(a.logs.filter((l) => String(l.msg).includes('not a GPU row'))).toHaveLength(1);
  });

  it('a lost GPU leaves the exposition and the count drops', async () => {
    const a = await agent({ env: { FAKE_NVSMI_GPUS: '2' } });
    await eventually(async () => (await gpuCount(a)) === 2);
    a.control('lose-gpu 1');
    const series = await eventually(
      async () => {
        const s = await a.metrics();
        return s.get('inferwatch_gpu_devices') === 1 ? s : undefined;
      },
      10_000,
      'count to drop',
    );
    const info = [...family(series, 'inferwatch_gpu_info').keys()];
    expect(info).toHaveLength(1);
    expect(info[0]).toContain('gpu="0"');
    expect(series.get('inferwatch_collector_success{collector="nvidia_smi"}')).toBe(0);
    expect(
      series.get('inferwatch_source_errors_total{collector="nvidia_smi",reason="gpu_lost"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  // Where a real nvidia-smi prints "GPU is lost" among its rows, and whether it repeats it, is
  // not established: every position, once and every sample, keeps the 7 healthy GPUs streaming.
  it.each([
    ['lose-gpu 7 last every', 7],
    ['lose-gpu 7 last', 7],
    ['lose-gpu 0 first every', 0],
    ['lose-gpu 3 in-place every', 3],
    ['lose-gpu 3 in-place', 3],
    ['lose-gpu 3 first', 3],
  ])(
    'one lost GPU of 8 (%s): the other 7 stay, counted once, no restart',
    async (command, lost) => {
      const a = await agent({ env: { FAKE_NVSMI_GPUS: '8' } });
      await eventually(async () => (await gpuCount(a)) === 8, 10_000, '8 GPUs');
      a.control(command);
      await eventually(
        async () =>
          (await a.metrics()).get('inferwatch_collector_success{collector="nvidia_smi"}') === 0,
        10_000,
        'the loss reported',
      );
      // Seven more sample rounds (200 ms each), seen in a healthy GPU's energy: the stream holds
      // and keeps serving the other 7.
      const before = await a.metrics();
      const [gpuKey, joules] = [...family(before, 'inferwatch_gpu_energy_joules_total')].find(
        ([k]) => !k.includes(`gpu="${lost}"`),
      )!;
      const watts = family(before, 'inferwatch_gpu_power_draw_watts').get(gpuKey)!;
      const series = await eventually(
        async () => {
          const now = await a.metrics();
          const after = family(now, 'inferwatch_gpu_energy_joules_total').get(gpuKey) ?? joules;
          return after - joules >= 7 * 0.2 * watts ? now : undefined;
        },
        10_000,
        'seven more sample rounds',
      );
      expect(series.get('inferwatch_gpu_devices')).toBe(7);
      const info = [...family(series, 'inferwatch_gpu_info').keys()];
      expect(info).toHaveLength(7);
      expect(info.some((k) => k.includes(`gpu="${lost}"`))).toBe(false);
      expect(family(series, 'inferwatch_gpu_temperature_celsius').size).toBeGreaterThanOrEqual(7);
      expect(series.get('inferwatch_collector_success{collector="nvidia_smi"}')).toBe(0);
      expect(
        series.get('inferwatch_source_errors_total{collector="nvidia_smi",reason="gpu_lost"}'),
      ).toBe(1);
      expect(streamStarts(a)).toBe(1);
    },
  );

  it('nvidia-smi missing: reported, and everything else is served', async () => {
    const a = await agent({ noNvidiaSmi: true });
    const series = await eventually(async () => {
      const s = await a.metrics();
      return s.get('inferwatch_source_errors_total{collector="nvidia_smi",reason="not_found"}')
        ? s
        : undefined;
    });
    expect(series.get('inferwatch_collector_success{collector="nvidia_smi"}')).toBe(0);
    expect(series.get('inferwatch_collector_success{collector="host"}')).toBe(1);
    expect(series.get('inferwatch_host_memory_total_bytes')).toBeGreaterThan(0);
    expect(
      a.logs.filter((l) => l.reason === 'not_found' && l.source === 'nvidia_smi'),
    ).toHaveLength(1);
  });

  it('SIGTERM: clean exit 0, no nvidia-smi left behind, the ready file gone', async () => {
    const a = await agent({ env: { FAKE_NVSMI_APPS: APPS } });
    // --ready-file names the address /metrics answers on.
    expect(readFileSync(join(a.dir, 'ready'), 'utf8')).toBe(`127.0.0.1:${a.port}\n`);
    await eventually(async () => (await gpuCount(a)) === 1);
    const pids = a
      .invocations()
      .filter((l) => l.includes('-lms'))
      .map((l) => Number(l.split(' ')[0]));
    expect(pids).toHaveLength(2);
    expect(await a.stop('SIGTERM')).toBe(0);
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
    expect(existsSync(join(a.dir, 'ready'))).toBe(false);
  });

  it('SIGKILL of the agent: no nvidia-smi outlives it, the silent process stream included', async () => {
    // No compute processes: that stream never writes, so only the parent-death signal ends it.
    const a = await agent();
    await eventually(async () => (await gpuCount(a)) === 1);
    const pids = a
      .invocations()
      .filter((l) => l.includes('-lms'))
      .map((l) => Number(l.split(' ')[0]));
    expect(pids).toHaveLength(2);
    await a.stop('SIGKILL');
    for (const pid of pids) await eventually(() => !pidAlive(pid), 5000, `orphan ${pid} to exit`);
  });

  it('a port already in use: a clear message and exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = spawnSync(process.execPath, [MAIN, 'run', '--listen', `127.0.0.1:${port}`], {
        encoding: 'utf8',
        env: { PATH: `${FAKE_BIN}:/usr/bin:/bin` },
        timeout: 15_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      blocker.close();
    }
  });
});

describe('the exposition passes promtool', () => {
  it('promtool check metrics prints nothing', async (ctx) => {
    if (!requireTool('promtool', 'prometheus', () => ctx.skip())) return;
    const a = await agent({ env: { FAKE_NVSMI_GPUS: '2', FAKE_NVSMI_APPS: APPS } });
    await eventually(
      async () => family(await a.metrics(), 'inferwatch_gpu_process_memory_used_bytes').size === 3,
      10_000,
    );
    const text = await (await a.get('/metrics')).text();
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out).toBe('');
  });
});
