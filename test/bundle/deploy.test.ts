import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';
import { requireTool } from '../helpers/tools.js';

const UNIT = join(ROOT, 'deploy/systemd/inferwatch.service');

/** The unit's directives, `Key=value` per line (comments and sections left out). */
function directives(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) map.set(m[1] as string, [...(map.get(m[1] as string) ?? []), m[2] as string]);
  }
  return map;
}

describe('the systemd unit', () => {
  const unit = directives(readFileSync(UNIT, 'utf8'));

  it('passes systemd-analyze verify', (ctx) => {
    if (!requireTool('systemd-analyze', 'systemd', () => ctx.skip())) return;
    expect(
      execFileSync('systemd-analyze', ['verify', UNIT], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ).toBe('');
  });

  it('runs unprivileged, with CAP_SYSLOG only, and a read-only file system', () => {
    expect(unit.get('User')).toEqual(['inferwatch']);
    expect(unit.get('AmbientCapabilities')).toEqual(['CAP_SYSLOG']);
    expect(unit.get('CapabilityBoundingSet')).toEqual(['CAP_SYSLOG']);
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
    ])
      expect(unit.get(key as string), key).toEqual([value]);
    expect(unit.get('ReadOnlyPaths')?.join(' ')).toContain('/var/log');
    // ProtectKernelLogs would hide /dev/kmsg, and PrivateDevices the GPUs: neither may be set.
    expect(unit.has('ProtectKernelLogs')).toBe(false);
    expect(unit.has('PrivateDevices')).toBe(false);
    expect(unit.get('ExecStart')?.[0]).toMatch(
      /dist\/agent\/main\.js run --config \/etc\/inferwatch\/config\.yaml$/,
    );
  });
});

describe('the Prometheus scrape examples', () => {
  it('pass promtool check config with the shipped rules, and label every target with node', (ctx) => {
    if (!requireTool('promtool', 'prometheus', () => ctx.skip())) return;
    const dir = mkdtempSync(join(tmpdir(), 'inferwatch-prom-'));
    cpSync(join(ROOT, 'deploy/prometheus'), dir, { recursive: true });
    cpSync(join(ROOT, 'alerts/inferwatch.rules.yml'), join(dir, 'inferwatch.rules.yml'));
    for (const file of ['single-node.yml', 'fleet-file-sd.yml']) {
      const out = execFileSync('promtool', ['check', 'config', join(dir, file)], {
        encoding: 'utf8',
      });
      expect(out, file).toContain('SUCCESS');
      expect(out, file).toContain(`SUCCESS: ${ruleCount()} rules found`);
    }
    for (const file of ['targets/inferwatch-gpu-nodes.json', 'targets/node-gpu-nodes.json']) {
      const groups = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        labels: { node?: string };
      }[];
      for (const g of groups) expect(g.labels.node, file).toMatch(/\S/);
    }
    expect(
      readFileSync(join(dir, 'single-node.yml'), 'utf8').match(/node: gpu-node-1/g),
    ).toHaveLength(2);
  });
});

function ruleCount(): number {
  return (
    readFileSync(join(ROOT, 'alerts/inferwatch.rules.yml'), 'utf8').match(
      /^ {6}- (alert|record):/gm,
    ) ?? []
  ).length;
}
