import { describe, expect, it } from 'vitest';
import { HostCollector, type HostSources } from '../../agent/collectors/host/collector.js';
import * as m from '../../agent/collectors/host/metrics.js';
import {
  parseMeminfo,
  parseProcStat,
  parseVmstatOomKills,
} from '../../agent/collectors/host/parse.js';
import { CollectorError } from '../../agent/core/collector.js';
import { readFixture } from '../helpers/fixtures.js';
import { Recorder } from '../helpers/recorder.js';

describe('procfs parsers on real files', () => {
  it('/proc/stat: seconds of each mode on the aggregate cpu line (USER_HZ 100)', () => {
    // cpu  5185 0 2073 51419 277 0 59 15 0 0
    expect(parseProcStat(readFixture('proc', 'stat_linux-6.18_2cpu.txt'))).toEqual(
      new Map([
        ['user', 51.85],
        ['nice', 0],
        ['system', 20.73],
        ['idle', 514.19],
        ['iowait', 2.77],
        ['irq', 0],
        ['softirq', 0.59],
        ['steal', 0.15],
      ]),
    );
    expect(parseProcStat('intr 1 2 3')).toBeUndefined();
    expect(parseProcStat('cpu  1 2 x 4\n')).toBeUndefined();
  });

  it('/proc/vmstat oom_kill and /proc/meminfo', () => {
    expect(parseVmstatOomKills(readFixture('proc', 'vmstat_linux-6.18.txt'))).toBe(0);
    expect(parseVmstatOomKills('pgfault 1\noom_kill 7\n')).toBe(7);
    expect(parseVmstatOomKills('pgfault 1\n')).toBeUndefined();
    const mem = parseMeminfo(readFixture('proc', 'meminfo_linux-6.18.txt'));
    expect(mem?.totalBytes).toBeGreaterThan(1024 ** 3);
    expect(mem?.availableBytes).toBeLessThanOrEqual(mem!.totalBytes);
    expect(parseMeminfo('MemTotal:  1000 kB\n')).toEqual({
      totalBytes: 1024000,
      availableBytes: undefined,
    });
  });
});

function sources(overrides: Partial<HostSources> = {}): HostSources {
  return {
    readProc(path) {
      if (path.endsWith('/stat')) return 'cpu  100 0 0 1000 0 0 0 0 0 0\n';
      if (path.endsWith('/vmstat')) return 'oom_kill 3\n';
      if (path.endsWith('/meminfo')) return 'MemTotal: 1000 kB\nMemAvailable: 600 kB\n';
      throw new Error('ENOENT');
    },
    freeBytes: async (path) => {
      if (path === '/missing')
        throw new Error("ENOENT: no such file or directory, statfs '/missing'");
      return 42;
    },
    ...overrides,
  };
}

describe('HostCollector', () => {
  it('emits CPU seconds by mode, memory, OOM kills and free space', async () => {
    const host = new HostCollector({ procPath: '/proc', filesystemPaths: ['/models'] }, sources());
    const out = new Recorder();
    await host.collect(out);
    // At once, from the first read: a counter needs no earlier reading.
    expect(out.value(m.HOST_CPU_SECONDS, { mode: 'idle' })).toBe(10);
    expect(out.value(m.HOST_CPU_SECONDS, { mode: 'user' })).toBe(1);
    expect(out.value(m.HOST_MEMORY_TOTAL)).toBe(1024000);
    expect(out.value(m.HOST_MEMORY_AVAILABLE)).toBe(600 * 1024);
    expect(out.value(m.HOST_MEMORY_USED)).toBe(400 * 1024);
    expect(out.value(m.HOST_OOM_KILLS)).toBe(3);
    expect(out.value(m.HOST_FILESYSTEM_FREE, { path: '/models' })).toBe(42);
    expect(out.degraded).toBeUndefined();
  });

  it('a missing path degrades the collector and loses nothing else', async () => {
    const host = new HostCollector(
      { procPath: '/proc', filesystemPaths: ['/', '/missing'] },
      sources(),
    );
    const out = new Recorder();
    await host.collect(out);
    expect(out.degraded).toContain('filesystem /missing');
    expect(out.value(m.HOST_FILESYSTEM_FREE, { path: '/' })).toBe(42);
    expect(out.value(m.HOST_MEMORY_TOTAL)).toBe(1024000);
    expect(host.status().state).toBe('failing');
  });

  it('fails outright when no source answers (no procfs here)', async () => {
    const host = new HostCollector(
      { procPath: '/nonexistent', filesystemPaths: [] },
      sources({
        readProc: () => {
          throw new Error('ENOENT');
        },
      }),
    );
    await expect(host.collect(new Recorder())).rejects.toBeInstanceOf(CollectorError);
  });
});
