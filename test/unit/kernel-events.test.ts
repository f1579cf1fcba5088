import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { normalizeBusId } from '../../agent/shared/bus-id.js';
import { GPU_XID_ERRORS, PAGED_XIDS } from '../../agent/shared/gpu-metrics.js';
import { mergeInto, newGpuView, sighting } from '../helpers/gpu-view.js';
import { KernelEventsCollector } from '../../agent/collectors/kernel-events/collector.js';
import { OOM_KILL_VICTIMS } from '../../agent/collectors/kernel-events/metrics.js';
import { KernelLogAssembler, parseKernelLine } from '../../agent/collectors/kernel-events/parse.js';
import { readerProblem } from '../../agent/shared/log-readers.js';
import type { GpuReport } from '../../agent/shared/gpu-report.js';
import { systemTimers } from '../../agent/core/clock.js';
import { Durable } from '../../agent/core/durable.js';
import { createLogger } from '../../agent/core/logger.js';
import { StateLog } from '../../agent/core/state-log.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { readFixture } from '../helpers/fixtures.js';
import { Recorder } from '../helpers/recorder.js';

const events = (file: string) =>
  readFixture('kernel', file)
    .split('\n')
    .map(parseKernelLine)
    .filter((e) => e !== undefined);

/** What `dmesg --notime` and `journalctl --output=cat` print: no stamp, and so no indent. */
const withoutStamps = (text: string) =>
  text
    .split('\n')
    .map((line) =>
      line
        .replace(/^\[\s*[\d.]+\] /, '')
        .replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: /, '')
        .trimStart(),
    )
    .join('\n');

const assembled = (text: string) => {
  const assembler = new KernelLogAssembler();
  return text
    .split('\n')
    .map((line) => assembler.push(line))
    .filter((e) => e !== undefined);
};

const MULTI_LINE_LOSSES: [file: string, bus: string][] = [
  ['kernel-log_nvrm-fallen-off-bus-3-lines_dmesg_nvsentinel-issue155.log', '0000:b3:00'],
  ['kernel-log_nvrm-fallen-off-bus-3-lines_journalctl-k_thinkpad-p51.log', '0000:01:00'],
  ['kernel-log_nvrm-fallen-off-bus-3-lines_syslog-each-line-stamped_drv525.log', '0000:5d:00'],
  ['kernel-log_nvrm-fallen-off-bus-2-lines_no-stamp_rtx5060ti.log', '0000:01:00'],
];

describe('PCI bus ids', () => {
  it.each([
    ['00000000:91:00.0', '0000:91:00'],
    ['PCI:0000:cb:00', '0000:cb:00'],
    ['GPU0000:91:00.0', '0000:91:00'],
    ['0000:03:00', '0000:03:00'],
    ['00000000:CB:00.0', '0000:cb:00'],
  ])('%s is %s', (raw, key) => expect(normalizeBusId(raw)).toBe(key));

  it('rejects what is not a bus id', () => {
    expect(normalizeBusId('GPU-1234')).toBeUndefined();
    expect(normalizeBusId('')).toBeUndefined();
  });
});

describe('parseKernelLine on real kernel logs', () => {
  it('Xid 13 and 43 (dmesg --decode --time-format iso)', () => {
    const found = events('kernel-log_nvrm-xid-13-43_dmesg-decode-iso.log');
    expect(found).toHaveLength(17);
    expect(found.filter((e) => e.kind === 'xid' && e.xid === 13)).toHaveLength(16);
    expect(found.at(-1)).toEqual({ kind: 'xid', pciBusId: '0000:38:00', xid: 43 });
  });

  it('Xid 119 (dmesg -T, GSP RPC history between the Xid lines)', () => {
    const found = events('kernel-log_nvrm-xid-119-gsp-timeout_dmesg-T_poweredge-xe9680.log');
    expect(found[0]).toEqual({
      kind: 'gpu_uuid',
      pciBusId: '0000:9b:00',
      uuid: 'GPU-509665ad-b600-ac93-3616-d754b23d636d',
    });
    expect(found.slice(1)).toEqual(
      Array(5).fill({ kind: 'xid', pciBusId: '0000:9b:00', xid: 119 }),
    );
  });

  it('Xid 79 with the fallen-off-the-bus line and the UUID line; NVSwitch SXid is not an Xid', () => {
    expect(events('kernel-log_nvrm-xid-79-fallen-off-bus_plus-nvswitch-sxid_dmesg.log')).toEqual([
      {
        kind: 'gpu_uuid',
        pciBusId: '0000:91:00',
        uuid: 'GPU-b6c3b2be-c55b-d076-fa0e-d464e4c7e08b',
      },
      { kind: 'xid', pciBusId: '0000:91:00', xid: 79 },
      { kind: 'fallen_off_bus', pciBusId: '0000:91:00' },
    ]);
  });

  it('OOM-killer victims in syslog form, a name with parentheses included', () => {
    const found = events('kernel-log_oom-killer_syslog-kernel-prefix_python3.log');
    expect(
      found
        .filter((e) => e.kind === 'oom_kill')
        .map((e) => (e.kind === 'oom_kill' ? e.process : '')),
    ).toEqual(['python3', '(resolved)', 'python3', '(resolved)']);
  });

  it('older drivers: no PCI: prefix', () => {
    expect(parseKernelLine('NVRM: Xid (0000:03:00): 14, Channel 00000001')).toEqual({
      kind: 'xid',
      pciBusId: '0000:03:00',
      xid: 14,
    });
  });

  it('a message over several lines is not seen line by line: that is why lines are joined', () => {
    const lines = readFixture(
      'kernel',
      'kernel-log_nvrm-fallen-off-bus-3-lines_dmesg_nvsentinel-issue155.log',
    ).split('\n');
    expect(lines.map(parseKernelLine).filter((e) => e !== undefined)).toEqual([]);
  });

  it('reader problems', () => {
    expect(readerProblem('dmesg: read kernel buffer failed: Operation not permitted')).toBe(
      'permission_denied',
    );
    expect(
      readerProblem('Hint: You are currently not seeing messages from other users and the system.'),
    ).toBe('permission_denied');
    expect(readerProblem('No journal files were found.')).toBe('unavailable');
    expect(readerProblem('NVRM: Xid (PCI:0000:38:00): 13, pid=1')).toBeUndefined();
  });
});

describe('KernelLogAssembler on real multi-line NVRM messages', () => {
  it.each(MULTI_LINE_LOSSES)('%s: one GPU loss, with the bus id of its first line', (file, bus) => {
    const text = readFixture('kernel', file);
    expect(assembled(text)).toEqual([{ kind: 'fallen_off_bus', pciBusId: bus }]);
  });

  it.each(MULTI_LINE_LOSSES)(
    '%s as dmesg --notime and journalctl --output=cat print it: the same one loss',
    (file, bus) => {
      const text = withoutStamps(readFixture('kernel', file));
      expect(text).not.toMatch(/^\s/m);
      expect(assembled(text)).toEqual([{ kind: 'fallen_off_bus', pciBusId: bus }]);
    },
  );

  it('single-line messages read as they did: every Xid, UUID and OOM victim of the other captures', () => {
    for (const file of [
      'kernel-log_nvrm-xid-13-43_dmesg-decode-iso.log',
      'kernel-log_nvrm-xid-119-gsp-timeout_dmesg-T_poweredge-xe9680.log',
      'kernel-log_nvrm-xid-79-fallen-off-bus_plus-nvswitch-sxid_dmesg.log',
      'kernel-log_oom-killer_syslog-kernel-prefix_python3.log',
    ]) {
      const text = readFixture('kernel', file);
      expect(assembled(text)).toEqual(events(file));
      expect(assembled(withoutStamps(text))).toEqual(events(file));
    }
  });

  it('a head left without its words does not swallow the next message, nor count as a loss', () => {
    expect(
      assembled(
        [
          'NVRM: The NVIDIA GPU 0000:b3:00.0',
          "NVRM: Xid (PCI:0000:b3:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.",
          'NVRM: The NVIDIA probe routine failed for 1 device(s).',
          'NVRM: fallen off the bus and is not responding to commands.',
        ].join('\n'),
      ),
    ).toEqual([{ kind: 'xid', pciBusId: '0000:b3:00', xid: 79 }]);
  });

  it('joins at most 8 lines: an endless run of continuations cannot grow a message', () => {
    const head = 'NVRM: The NVIDIA GPU 0000:b3:00.0';
    const filler = Array(8).fill('               NVRM: (PCI ID: 10de:26b5)');
    expect(assembled([head, ...filler, 'NVRM: fallen off the bus.'].join('\n'))).toEqual([]);
  });
});

function setup() {
  const runner = new FakeRunner();
  // nvidia-smi names one GPU; the kernel names the others by their bus alone.
  const nvidiaSmi: GpuReport = {
    reader: 'nvidia_smi',
    gpus: [sighting('GPU-4', { index: '4', pciBusId: '0000:9b:00' })],
  };
  const view = newGpuView();
  const errors: string[] = [];
  let now = 0;
  const collector = new KernelEventsCollector(
    {
      dmesgCommand: 'dmesg',
      journalctlCommand: 'journalctl',
      backoff: { initialMs: 100, maxMs: 100 },
    },
    {
      durable: new Durable(),
      runner,
      timers: systemTimers,
      clock: { monotonicMs: () => now, epochMs: () => now },
      errors: { count: (_c, reason) => errors.push(reason) },
      stateLog: new StateLog(createLogger('error', { write: () => undefined })),
    },
  );
  const scrape = () => {
    const out = new Recorder();
    collector.collect(out);
    return mergeInto(view, out, [nvidiaSmi]).samples;
  };
  return { runner, collector, errors, scrape, tick: (ms: number) => (now += ms) };
}

const xid = (samples: Recorder['samples'], bus: string, code: number) =>
  samples.find(
    (s) => s.def === GPU_XID_ERRORS && s.labels.pci_bus_id === bus && s.labels.xid === String(code),
  )?.value;

describe('KernelEventsCollector', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('paged Xids exist at 0 for every known GPU from the start, then count', async () => {
    const { runner, collector, scrape } = setup();
    await collector.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.last.args).toEqual(['--kernel', '--follow-new', '--notime']);
    let samples = scrape();
    expect(samples.filter((s) => s.def === GPU_XID_ERRORS)).toHaveLength(PAGED_XIDS.length);
    expect(xid(samples, '0000:9b:00', 119)).toBe(0);
    for (const line of readFixture(
      'kernel',
      'kernel-log_nvrm-xid-119-gsp-timeout_dmesg-T_poweredge-xe9680.log',
    ).split('\n')) {
      runner.last.line(line);
    }
    samples = scrape();
    expect(xid(samples, '0000:9b:00', 119)).toBe(5);
    expect(samples.find((s) => s.labels.xid === '119')?.labels).toEqual({
      gpu: '4',
      uuid: 'GPU-4',
      gpu_model: 'NVIDIA H100 80GB HBM3',
      pci_bus_id: '0000:9b:00',
      xid: '119',
    });
  });

  it('Xid 79 and its fallen-off-the-bus line count once; the UUID comes from the kernel', async () => {
    const { runner, collector, scrape, tick } = setup();
    await collector.start();
    await vi.advanceTimersByTimeAsync(0);
    for (const line of readFixture(
      'kernel',
      'kernel-log_nvrm-xid-79-fallen-off-bus_plus-nvswitch-sxid_dmesg.log',
    ).split('\n')) {
      runner.last.line(line);
    }
    let samples = scrape();
    expect(xid(samples, '0000:91:00', 79)).toBe(1);
    expect(samples.find((s) => s.labels.pci_bus_id === '0000:91:00')?.labels.uuid).toBe(
      'GPU-b6c3b2be-c55b-d076-fa0e-d464e4c7e08b',
    );
    // A later fall, reported only by the second line, still counts.
    tick(120_000);
    runner.last.line('NVRM: GPU 0000:91:00.0: GPU has fallen off the bus.');
    samples = scrape();
    expect(xid(samples, '0000:91:00', 79)).toBe(2);
  });

  it('a GPU loss printed over three lines counts as one Xid 79 for the bus on its first line', async () => {
    const { runner, collector, scrape } = setup();
    await collector.start();
    await vi.advanceTimersByTimeAsync(0);
    // The collector reads `dmesg --notime`: the capture as that prints it.
    for (const line of withoutStamps(
      readFixture('kernel', 'kernel-log_nvrm-fallen-off-bus-3-lines_dmesg_nvsentinel-issue155.log'),
    ).split('\n')) {
      runner.last.line(line);
    }
    expect(xid(scrape(), '0000:b3:00', 79)).toBe(1);
  });

  it('counts OOM-killer victims by process', async () => {
    const { runner, collector, scrape } = setup();
    await collector.start();
    await vi.advanceTimersByTimeAsync(0);
    for (const line of readFixture(
      'kernel',
      'kernel-log_oom-killer_syslog-kernel-prefix_python3.log',
    ).split('\n')) {
      runner.last.line(line);
    }
    const victims = scrape().filter((s) => s.def === OOM_KILL_VICTIMS);
    expect(victims).toEqual([
      { def: OOM_KILL_VICTIMS, labels: { process: 'python3' }, value: 2 },
      { def: OOM_KILL_VICTIMS, labels: { process: '(resolved)' }, value: 2 },
    ]);
  });

  it('dmesg refused: falls back to journalctl; both refused: no series, and says how to grant it', async () => {
    const { runner, collector, scrape, errors } = setup();
    await collector.start();
    await vi.advanceTimersByTimeAsync(0);
    runner.last.line('dmesg: read kernel buffer failed: Operation not permitted');
    expect(() => scrape()).toThrow(/Operation not permitted/);
    await vi.advanceTimersByTimeAsync(100);
    expect(runner.last.args[0]).toBe('--dmesg');
    expect(scrape().length).toBeGreaterThan(0);
    runner.last.line(
      'Hint: You are currently not seeing messages from other users and the system.',
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(() => scrape()).toThrow(/CAP_SYSLOG/);
    expect(collector.status()).toMatchObject({ state: 'missing' });
    expect(errors).toContain('permission_denied');
    expect(runner.streams).toHaveLength(2);
    // After the backoff it tries dmesg again: permissions may have been granted.
    await vi.advanceTimersByTimeAsync(100);
    expect(runner.streams).toHaveLength(3);
    expect(runner.last.args[0]).toBe('--kernel');
  });
});
