import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { manifests, manifestsText } from '../../deploy/kubernetes/src/manifests.js';
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

describe('the Kubernetes manifests', () => {
  type Doc = { kind: string; apiVersion: string; metadata: { name: string }; [k: string]: unknown };
  const text = readFileSync(join(ROOT, 'deploy/kubernetes/inferwatch.yaml'), 'utf8');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Doc);
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);

  it('are what the generator builds from alerts/ and dashboards/ (run `npm run bundle`)', async () => {
    expect(text).toBe(manifestsText(await manifests(ROOT)));
  });

  it('validate against the Kubernetes and Prometheus Operator schemas', () => {
    const models: Record<string, new (o: never) => { validate(): void }> = {
      Namespace: Namespace as never,
      ServiceAccount: ServiceAccount as never,
      ConfigMap: ConfigMap as never,
      DaemonSet: DaemonSet as never,
      Service: Service as never,
      ServiceMonitor: ServiceMonitor as never,
      PrometheusRule: PrometheusRule as never,
    };
    expect(docs.map((d) => d.kind).sort()).toEqual(
      [
        'ConfigMap',
        'ConfigMap',
        'ConfigMap',
        'ConfigMap',
        'ConfigMap',
        'ConfigMap',
        'DaemonSet',
        'Namespace',
        'PrometheusRule',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
      ].sort(),
    );
    for (const doc of docs) {
      const Model = models[doc.kind];
      expect(Model, doc.kind).toBeDefined();
      expect(
        () => new Model!(doc as never).validate(),
        `${doc.kind} ${doc.metadata.name}`,
      ).not.toThrow();
    }
    // The validator does catch a wrong type: a port that is not a number.
    const broken = JSON.parse(JSON.stringify(byKind('Service')[0])) as {
      spec: { ports: { port: unknown }[] };
    };
    broken.spec.ports[0]!.port = 'nine thousand';
    expect(() => new Service(broken as never).validate()).toThrow();
  });

  it('carry the shipped rules and dashboards unchanged', () => {
    const rules = parse(readFileSync(join(ROOT, 'alerts/inferwatch.rules.yml'), 'utf8')) as {
      groups: unknown;
    };
    expect(
      (byKind('PrometheusRule')[0] as unknown as { spec: { groups: unknown } }).spec.groups,
    ).toEqual(rules.groups);
    const dashboards = byKind('ConfigMap').filter((c) =>
      c.metadata.name.startsWith('inferwatch-dashboard-'),
    );
    expect(dashboards).toHaveLength(5);
    for (const cm of dashboards) {
      const [file, json] = Object.entries(
        (cm as unknown as { data: Record<string, string> }).data,
      )[0]!;
      expect(json).toBe(
        readFileSync(join(ROOT, 'dashboards', file.replace(/^inferwatch-/, '')), 'utf8'),
      );
      expect(
        (cm.metadata as unknown as { labels: Record<string, string> }).labels.grafana_dashboard,
      ).toBe('1');
    }
  });

  it('run the agent on GPU nodes with the NVIDIA runtime, /dev/kmsg read-only and CAP_SYSLOG only', () => {
    const ds = byKind('DaemonSet')[0] as unknown as {
      spec: {
        template: {
          spec: Record<string, unknown> & {
            containers: Record<string, unknown>[];
            volumes: { name: string; hostPath?: { path: string } }[];
          };
        };
      };
    };
    const pod = ds.spec.template.spec;
    expect(pod.runtimeClassName).toBe('nvidia');
    expect(pod.hostPID).toBe(false);
    const c = pod.containers[0] as {
      securityContext: Record<string, unknown> & {
        capabilities: { drop: string[]; add: string[] };
      };
      volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
    };
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['SYSLOG'] });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(c.volumeMounts.find((m) => m.mountPath === '/dev/kmsg')).toMatchObject({
      readOnly: true,
    });
    expect(pod.volumes.find((v) => v.name === 'kmsg')?.hostPath?.path).toBe('/dev/kmsg');
    const sm = byKind('ServiceMonitor')[0] as unknown as {
      spec: { endpoints: { relabelings: { targetLabel: string }[] }[] };
    };
    expect(sm.spec.endpoints[0]!.relabelings.map((r) => r.targetLabel)).toContain('node');
  });
});

describe('the Dockerfile', () => {
  it('builds in one stage and runs from a slim one as a non-root user', () => {
    const text = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    expect(text).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/opt\/inferwatch\/dist\/agent\/main\.js"\]$/m);
  });
});
