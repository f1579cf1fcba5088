import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHostInventory } from '../../agent/collectors/host/inventory.js';
import { FAKE_BIN, MAIN, tempDir } from '../helpers/agent-process.js';

function inferwatch(args: string[], env: Record<string, string> = {}, withNvidiaSmi = true) {
  const dir = tempDir();
  const log = join(dir, 'invocations.log');
  writeFileSync(log, '');
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: withNvidiaSmi ? `${FAKE_BIN}:/usr/bin:/bin` : '/usr/bin:/bin',
      FAKE_NVSMI_LOG: log,
      ...env,
    },
  });
  return { ...result, invocations: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('inferwatch host-inventory', () => {
  it('prints what this host is, as the agent reads it in a child, checked by its own parser', () => {
    const r = inferwatch(['host-inventory'], {}, false);
    expect(r.status).toBe(0);
    const inventory = parseHostInventory(r.stdout);
    expect(inventory.kernel).toBe(release());
    expect(inventory.arch).toBe(arch());
    expect(inventory.os).not.toBe('');
    expect(inventory.cpu_cores).toBe(availableParallelism());
  });

  it('and once exports it: inferwatch_host_info with this kernel', () => {
    const r = inferwatch(['once'], {}, false);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^inferwatch_host_info\\{.*kernel="${release().replace(/[.+]/g, '\\$&')}".*\\} 1$`,
        'm',
      ),
    );
  });
});

describe('inferwatch once', () => {
  it('prints one collection round on stdout and exits 0', () => {
    const r = inferwatch(['once'], { FAKE_NVSMI_GPUS: '2' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('inferwatch_gpu_devices 2');
    expect(r.stdout).toContain('inferwatch_collector_success{collector="nvidia_smi"} 1');
    expect(r.stdout).toContain('inferwatch_host_memory_total_bytes');
  });

  it('without nvidia-smi: still exit 0, the failure in the exposition', () => {
    const r = inferwatch(['once'], {}, false);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('inferwatch_collector_success{collector="nvidia_smi"} 0');
    expect(r.stdout).toContain('inferwatch_collector_success{collector="host"} 1');
    expect(r.stderr).toContain('not found on PATH');
  });

  it('logs JSON where stderr is no terminal, and text for a person with log_format: text', () => {
    const json = inferwatch(['once'], {}, false);
    const warning = json.stderr.split('\n').find((l) => l.includes('"source":"nvidia_smi"')) ?? '';
    expect(JSON.parse(warning)).toMatchObject({ level: 40, source: 'nvidia_smi' });
    const config = join(tempDir(), 'config.yaml');
    writeFileSync(config, 'log_format: text\n');
    const text = inferwatch(['once', '--config', config], {}, false);
    expect(text.status).toBe(0);
    expect(text.stderr).toMatch(
      /^\S+Z WARN {2}nvidia_smi: nvidia-smi: not found on PATH.* {2}source=nvidia_smi/m,
    );
    expect(text.stderr).not.toMatch(/^\{/m);
  });

  it('ends every message about a missing or failing source with what to do', () => {
    // Nothing on PATH: no nvidia-smi, no dmesg nor journalctl; no dcgm-exporter, no runtime.
    const r = inferwatch(['once'], { PATH: tempDir() }, false);
    const about = r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string; source?: string })
      .filter((l) => l.level >= 40 || /not found|no dcgm-exporter|missing/.test(l.msg));
    expect(about.map((l) => l.source).sort()).toEqual(
      ['dcgm', 'kernel_events', 'nvidia_smi', 'nvidia_smi_processes'].sort(),
    );
    for (const line of about) expect(line.msg, line.msg).toMatch(/\. What to do: \S/);
  });
});

describe('inferwatch doctor', () => {
  it('says what it found', () => {
    const r = inferwatch(['doctor'], { FAKE_NVSMI_GPUS: '2' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /nvidia_smi\s+ok\s+2 GPU\(s\): NVIDIA H100 80GB HBM3; driver 590\.48\.01, CUDA 13\.1/,
    );
    expect(r.stdout).toMatch(/host\s+ok/);
    expect(r.stdout).toContain('config: built-in defaults');
  });

  it('says what is missing and why, and what to do about each', () => {
    const r = inferwatch(['doctor'], { PATH: tempDir() }, false);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/nvidia_smi\s+missing\s+nvidia-smi not found on PATH/);
    const lines = r.stdout.split('\n');
    const notOk = lines.flatMap((line, i) =>
      /^\w+\s+(missing|failing)\s/.test(line) ? [[line, lines[i + 1] ?? '']] : [],
    );
    expect(notOk.map(([line]) => line?.split(/\s+/)[0]).sort()).toEqual(
      ['dcgm', 'gpu', 'kernel_events', 'nvidia_smi', 'nvidia_smi_processes', 'runtimes'].sort(),
    );
    for (const [line, next] of notOk) expect(next, line).toMatch(/^ {2}what to do: \S/);
    expect(r.stdout).toContain('collectors.nvidia_smi.enabled: false');
  });

  it('names the fields an older driver lacks, and uses the old names it has', () => {
    const r = inferwatch(['doctor'], {
      FAKE_NVSMI_FIXTURE: join(
        import.meta.dirname,
        '../fixtures/nvidia-smi/nvidia-smi_query-gpu_csv_windows-rtx-2080-super_drv610.62_idle.csv',
      ),
      FAKE_NVSMI_UNKNOWN: 'gpu_recovery_action,pcie.link.gen.gpucurrent',
    });
    expect(r.stdout).toMatch(
      /nvidia_smi\s+ok\s+1 GPU\(s\): NVIDIA GeForce RTX 2080 SUPER; driver 610\.62/,
    );
    expect(r.stdout).toContain('fields this driver lacks: gpu_recovery_action');
    expect(r.invocations.some((l) => l.includes('pcie.link.gen.current,'))).toBe(true);
  });
});

describe('inferwatch run with an invalid config', () => {
  it('exits 2 naming the field, and starts nothing', () => {
    const dir = tempDir();
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'collectors:\n  nvidia_smi:\n    interval_ms: -1\n');
    const r = inferwatch(['run', '--config', config, '--listen', '127.0.0.1:0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('collectors.nvidia_smi.interval_ms');
    expect(r.invocations).toEqual([]);
  });
});

describe('check-config catches what run would refuse', () => {
  const dir = tempDir();
  const twoLines = join(dir, 'two-line-key');
  writeFileSync(twoLines, 'MARKER-KEY-LINE-ONE\nMARKER-KEY-LINE-TWO\n');
  const target = (fields: string) =>
    `collectors:\n  runtimes:\n    targets: [{ kind: vllm, url: "http://127.0.0.1:1", ${fields} }]\n`;

  it.each([
    ['a port past 65535', 'listen: "0.0.0.0:99999"\n', 'listen: the port must be 0 to 65535'],
    [
      'an API key file that is not there',
      target(`api_key_file: ${join(dir, 'missing-key')}`),
      'collectors.runtimes.targets.0.api_key_file: cannot read api_key_file',
    ],
    [
      'an API key file of two lines',
      target(`api_key_file: ${twoLines}`),
      'collectors.runtimes.targets.0.api_key_file: api_key_file',
    ],
    [
      'an API key variable that is unset',
      target('api_key_env: INFERWATCH_TEST_UNSET_KEY'),
      'collectors.runtimes.targets.0.api_key_env: environment variable INFERWATCH_TEST_UNSET_KEY is empty or unset',
    ],
  ])('%s: exit 2 from both, naming the field, quoting no key', (_, yaml, problem) => {
    const config = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, yaml);
    const check = inferwatch(['check-config', config]);
    // --listen would override the file's listen; where the file's is the problem, it is left out.
    const listen = yaml.startsWith('listen:') ? [] : ['--listen', '127.0.0.1:0'];
    const run = inferwatch(['run', '--config', config, ...listen]);
    for (const r of [check, run]) {
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(problem);
      expect(r.stderr).not.toContain('MARKER-KEY');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(run.invocations).toEqual([]);
  });
});

describe('a collector switched off', () => {
  it('is not run at all', () => {
    const dir = tempDir();
    const config = join(dir, 'no-gpu.yaml');
    writeFileSync(config, 'collectors:\n  nvidia_smi:\n    enabled: false\n');
    const r = inferwatch(['once', '--config', config]);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('collector="nvidia_smi"');
    expect(r.stdout).toContain('inferwatch_collector_success{collector="host"} 1');
    expect(r.invocations).toEqual([]);
  });
});
