import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  eventually,
  FAKE_BIN,
  MAIN,
  agentsKilledAfterEach,
  tempDir,
} from '../helpers/agent-process.js';

const agent = agentsKilledAfterEach();

function kernelLog(): string {
  const path = join(tempDir(), 'kern.log');
  writeFileSync(path, '');
  return path;
}

const GPU1 =
  '{gpu="1",uuid="GPU-00000001-1111-2222-3333-000000000001",gpu_model="NVIDIA H100 80GB HBM3",pci_bus_id="0000:11:00"';

describe('kernel events through the agent', () => {
  it('a GPU falling off the bus: its Xid 79 series goes from 0 to 1; OOM victims are counted', async () => {
    const log = kernelLog();
    const a = await agent({ env: { FAKE_NVSMI_GPUS: '2', FAKE_KLOG_FILE: log } });
    await eventually(
      async () => (await a.metrics()).get(`inferwatch_gpu_xid_errors_total${GPU1},xid="79"}`) === 0,
      10_000,
      'Xid 79 at 0',
    );
    appendFileSync(
      log,
      "[6781741.548779] NVRM: Xid (PCI:0000:11:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.\n" +
        '[6781741.548783] NVRM: GPU 0000:11:00.0: GPU has fallen off the bus.\n' +
        'May 15 23:09:30 host kernel: [  518.050606] Out of memory: Killed process 15784 (python3) total-vm:11964kB, anon-rss:4288kB, file-rss:3028kB, shmem-rss:0kB\n',
    );
    const series = await eventually(
      async () => {
        const s = await a.metrics();
        return s.get(`inferwatch_gpu_xid_errors_total${GPU1},xid="79"}`) === 1 ? s : undefined;
      },
      10_000,
      'Xid 79 counted',
    );
    expect(series.get('inferwatch_oom_kill_victims_total{process="python3"}')).toBe(1);
    expect(series.get('inferwatch_collector_success{collector="kernel_events"}')).toBe(1);
  });

  it('dmesg refused: journalctl reads the kernel log instead', async () => {
    const log = kernelLog();
    const invocations = join(tempDir(), 'klog.log');
    writeFileSync(invocations, '');
    const a = await agent({
      env: { FAKE_KLOG_FILE: log, FAKE_KLOG_DENY_DMESG: '1', FAKE_KLOG_LOG: invocations },
    });
    // The reader follows from its start: wait until it has taken the file's current end.
    await eventually(
      () => readFileSync(invocations, 'utf8').includes('journalctl following from byte'),
      10_000,
      'journalctl following the log',
    );
    expect((await a.metrics()).get('inferwatch_collector_success{collector="kernel_events"}')).toBe(
      1,
    );
    appendFileSync(
      log,
      'NVRM: Xid (PCI:0000:10:00): 48, pid=1, name=python3, An uncorrectable double bit error\n',
    );
    await eventually(
      async () => {
        const s = await a.metrics();
        return [...s.entries()].some(
          ([k, v]) => k.includes('pci_bus_id="0000:10:00",xid="48"') && v === 1,
        );
      },
      10_000,
      'Xid 48 through journalctl',
    );
  });

  it('neither may read: doctor says what is missing and how to grant it', () => {
    const r = spawnSync(process.execPath, [MAIN, 'doctor'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: `${FAKE_BIN}:/usr/bin:/bin`,
        FAKE_KLOG_DENY_DMESG: '1',
        FAKE_KLOG_DENY_JOURNAL: '1',
      },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /kernel_events\s+missing\s+the agent may not read the kernel log\n\s+what to do: give it CAP_SYSLOG/,
    );
  });
});
