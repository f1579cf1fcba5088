import { describe, expect, it } from 'vitest';
import { HostCollector, type HostSources } from '../../agent/collectors/host/collector.js';
import {
  INVENTORY_MAX_BYTES,
  INVENTORY_TIMEOUT_MS,
  inventoryFrom,
  runHostInventory,
  type HostInventory,
  type SystemInformation,
} from '../../agent/collectors/host/inventory.js';
import * as m from '../../agent/collectors/host/metrics.js';
import type { ProcessRunner, RunResult } from '../../agent/core/exec.js';
import { selfCommand } from '../../agent/core/self-command.js';
import { readFixture } from '../helpers/fixtures.js';
import { Recorder } from '../helpers/recorder.js';

const captured = JSON.parse(
  readFixture('host', 'systeminformation_5.33_debian-12-container.json'),
) as SystemInformation;

const INVENTORY: HostInventory = {
  os: 'Ubuntu',
  os_version: '24.04.1 LTS',
  kernel: '6.8.0-45-generic',
  arch: 'x64',
  system_vendor: 'Dell Inc.',
  system_model: 'PowerEdge XE9680',
  cpu_model: 'Intel Xeon Platinum 8480+',
  cpu_cores: 224,
  cpu_physical_cores: 112,
};

describe('the host inventory from systeminformation', () => {
  it("reads the captured answers, and drops systeminformation's own placeholder model", () => {
    expect(inventoryFrom(captured)).toEqual({
      os: 'Debian GNU/Linux',
      os_version: '12',
      kernel: '6.18.44-fc-v1252',
      arch: 'x64',
      system_vendor: '',
      // "Docker Container": what systeminformation answers wherever /.dockerenv exists.
      system_model: '',
      cpu_model: 'AMD EPYC',
      cpu_cores: 2,
      cpu_physical_cores: 2,
    });
  });

  it("names the server from the kernel's DMI names first, even in a container", () => {
    // What dmidecode prints on a PowerEdge R640 (kamermans/docker-openmanage issue #17), as
    // the kernel shows it in /sys/devices/virtual/dmi/id, with the agent in a container.
    const inventory = inventoryFrom({
      ...captured,
      dmi: { sys_vendor: 'Dell Inc.\n', product_name: 'PowerEdge R640\n' },
    });
    expect([inventory.system_vendor, inventory.system_model]).toEqual([
      'Dell Inc.',
      'PowerEdge R640',
    ]);
  });

  it('takes no vendor placeholder for a name, and keeps labels short', () => {
    const inventory = inventoryFrom({
      ...captured,
      dmi: { sys_vendor: 'To Be Filled By O.E.M.', product_name: 'Default string' },
      system: { manufacturer: 'Supermicro', model: 'Computer' },
      cpu: { brand: 'x'.repeat(500), cores: 8 },
    });
    expect(inventory.system_vendor).toBe('Supermicro');
    expect(inventory.system_model).toBe('');
    expect(inventory.cpu_model).toHaveLength(128);
    expect(inventory.cpu_physical_cores).toBe(0);
  });
});

describe('the host-inventory child', () => {
  function runner(result: Partial<RunResult>): ProcessRunner & { calls: unknown[][] } {
    const calls: unknown[][] = [];
    return {
      calls,
      run: async (command, args, options) => {
        calls.push([command, args, options]);
        return {
          exitCode: 0,
          signal: null,
          stdout: '',
          stderr: '',
          timedOut: false,
          truncated: false,
          ...result,
        };
      },
      stream: () => {
        throw new Error('not streamed');
      },
    };
  }
  const self = { command: '/usr/bin/node', args: ['/opt/inferwatch/dist/agent/main.js'] };

  it('runs the agent again as `host-inventory`, bounded in time and size, at the lowest priority, and checks what it prints', async () => {
    const r = runner({ stdout: `${JSON.stringify(INVENTORY)}\n` });
    expect(await runHostInventory(r, self)).toEqual(INVENTORY);
    expect(r.calls).toEqual([
      [
        '/usr/bin/node',
        ['/opt/inferwatch/dist/agent/main.js', 'host-inventory'],
        { timeoutMs: INVENTORY_TIMEOUT_MS, maxBytes: INVENTORY_MAX_BYTES, niceness: 19 },
      ],
    ]);
  });

  it('says why when the child hangs, floods, fails or lies', async () => {
    await expect(
      runHostInventory(runner({ timedOut: true, exitCode: null }), self),
    ).rejects.toThrow(/no answer in 15 s/);
    await expect(runHostInventory(runner({ truncated: true }), self)).rejects.toThrow(
      /over 65536 bytes/,
    );
    await expect(
      runHostInventory(runner({ exitCode: 1, stderr: 'Error: Cannot find module\n' }), self),
    ).rejects.toThrow(/exited with 1: Error: Cannot find module/);
    await expect(runHostInventory(runner({ stdout: 'hello' }), self)).rejects.toThrow(/no JSON/);
    await expect(
      runHostInventory(runner({ stdout: JSON.stringify({ ...INVENTORY, serial: 'X' }) }), self),
    ).rejects.toThrow(/unexpected inventory/);
    await expect(
      runHostInventory(
        runner({ stdout: JSON.stringify({ ...INVENTORY, kernel: 'k'.repeat(200) }) }),
        self,
      ),
    ).rejects.toThrow(/kernel/);
  });

  it('is node and the entry script, or the single executable alone', () => {
    expect(selfCommand('/usr/bin/node', '/opt/inferwatch/dist/agent/main.js')).toEqual({
      command: '/usr/bin/node',
      args: ['/opt/inferwatch/dist/agent/main.js'],
    });
    expect(selfCommand('/usr/bin/node', '/usr/lib/inferwatch/inferwatch.cjs').args).toEqual([
      '/usr/lib/inferwatch/inferwatch.cjs',
    ]);
    // A single executable application sees its own path where a script would be.
    expect(selfCommand('/usr/bin/inferwatch', '/usr/bin/inferwatch')).toEqual({
      command: '/usr/bin/inferwatch',
      args: [],
    });
  });
});

function sources(): HostSources {
  return {
    readProc(path) {
      if (path.endsWith('/stat')) return 'cpu  100 0 0 1000 0 0 0 0 0 0\n';
      if (path.endsWith('/vmstat')) return 'oom_kill 3\n';
      if (path.endsWith('/meminfo')) return 'MemTotal: 1000 kB\nMemAvailable: 600 kB\n';
      throw new Error('ENOENT');
    },
    freeBytes: async () => 42,
  };
}

describe('HostCollector and the inventory', () => {
  const options = { procPath: '/proc', filesystemPaths: [] };

  it('exports the inventory once read, as an info series and cores', async () => {
    const host = new HostCollector(options, sources(), async () => INVENTORY);
    await Promise.resolve();
    const out = new Recorder();
    await host.collect(out);
    const info = out.samples.filter((s) => s.def === m.HOST_INFO);
    expect(info).toEqual([
      {
        def: m.HOST_INFO,
        labels: {
          os: 'Ubuntu',
          os_version: '24.04.1 LTS',
          kernel: '6.8.0-45-generic',
          arch: 'x64',
          system_vendor: 'Dell Inc.',
          system_model: 'PowerEdge XE9680',
          cpu_model: 'Intel Xeon Platinum 8480+',
        },
        value: 1,
      },
    ]);
    expect(
      out.samples.filter((s) => s.def === m.HOST_CPU_CORES).map((s) => [s.labels.kind, s.value]),
    ).toEqual([
      ['logical', 224],
      ['physical', 112],
    ]);
    expect(out.degraded).toBeUndefined();
    expect(host.status().detail).toMatch(
      /^Ubuntu 24\.04\.1 LTS, kernel 6\.8\.0-45-generic, Dell Inc\. PowerEdge XE9680: CPU/,
    );
  });

  it('never waits for it: a scrape before the answer has everything else', async () => {
    const host = new HostCollector(options, sources(), () => new Promise(() => {}));
    const out = new Recorder();
    await host.collect(out);
    expect(out.samples.some((s) => s.def === m.HOST_INFO)).toBe(false);
    expect(out.samples.some((s) => s.def === m.HOST_MEMORY_TOTAL)).toBe(true);
    expect(out.degraded).toBeUndefined();
  });

  it('a failed read is said, and costs nothing else', async () => {
    const host = new HostCollector(options, sources(), async () => {
      throw new Error('host-inventory gave no answer in 15 s');
    });
    await Promise.resolve();
    await Promise.resolve();
    const out = new Recorder();
    await host.collect(out);
    expect(out.degraded).toBe('host inventory: host-inventory gave no answer in 15 s');
    expect(out.samples.some((s) => s.def === m.HOST_CPU_SECONDS)).toBe(true);
    expect(host.status()).toMatchObject({ state: 'failing' });
  });
});
