import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { bundleFiles } from '../../alerts/src/generate.js';
import { CHART_DIR, chartValues, renderChart } from '../../deploy/kubernetes/src/chart.js';
import { render, TemplateError } from '../../deploy/kubernetes/src/template.js';
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

describe('the Kubernetes manifests and the Helm chart', () => {
  type Doc = {
    kind: string;
    apiVersion: string;
    metadata: { name: string; labels?: Record<string, string> };
    [k: string]: unknown;
  };
  const text = readFileSync(join(ROOT, 'deploy/kubernetes/inferwatch.yaml'), 'utf8');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Doc);
  const byKind = (list: Doc[], kind: string) => list.filter((d) => d.kind === kind);
  const SETTINGS = readFileSync(join(ROOT, 'alerts/settings.yaml'), 'utf8');
  const generated = bundleFiles(SETTINGS, 'alerts/settings.yaml');
  const CHART = join(ROOT, CHART_DIR);
  const chart = new Map(
    [...generated]
      .filter(([path]) => path.startsWith(`${CHART}/`))
      .map(([path, body]) => [path.slice(CHART.length + 1), body]),
  );
  /** The chart rendered for a release with these values over its defaults. */
  const rendered = (
    overrides: unknown,
    release = { Name: 'gpu-watch', Namespace: 'observability' },
  ) => renderChart(chart, chartValues(chart, overrides), release) as Doc[];

  it('are what the generator builds from alerts/settings.yaml, alerts/ and dashboards/ (run `npm run bundle`)', () => {
    expect(text).toBe(generated.get(join(ROOT, 'deploy/kubernetes/inferwatch.yaml')));
    const onDisk = readdirSync(CHART, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(CHART.length + 1))
      .sort();
    expect(onDisk).toEqual([...chart.keys()].sort());
    for (const [path, body] of chart)
      expect(readFileSync(join(CHART, path), 'utf8'), path).toBe(body);
  });

  it('the plain manifests are the chart rendered with its default values', () => {
    expect(docs.slice(1)).toEqual(rendered({}, { Name: 'inferwatch', Namespace: 'inferwatch' }));
    expect(docs[0]?.kind).toBe('Namespace');
  });

  const models: Record<string, new (o: never) => { validate(): void }> = {
    Namespace: Namespace as never,
    ServiceAccount: ServiceAccount as never,
    ClusterRole: ClusterRole as never,
    ClusterRoleBinding: ClusterRoleBinding as never,
    ConfigMap: ConfigMap as never,
    DaemonSet: DaemonSet as never,
    Service: Service as never,
    ServiceMonitor: ServiceMonitor as never,
    PrometheusRule: PrometheusRule as never,
  };
  const validate = (list: Doc[]) => {
    for (const doc of list) {
      const Model = models[doc.kind];
      expect(Model, doc.kind).toBeDefined();
      expect(
        () => new Model!(doc as never).validate(),
        `${doc.kind} ${doc.metadata.name}`,
      ).not.toThrow();
    }
  };

  it.each([
    ['the defaults', {}],
    ['the kernel log through /dev/kmsg with CAP_SYSLOG', { kernelLog: 'kmsg' }],
    [
      'no kernel log, no host PID namespace, no kubelet socket',
      { kernelLog: 'off', hostPID: false, podResources: false },
    ],
    [
      'a GKE node pool with the NVIDIA RuntimeClass and a pull secret',
      {
        nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-h100-80gb' },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
                  ],
                },
              ],
            },
          },
        },
        runtimeClassName: 'nvidia',
        imagePullSecrets: [{ name: 'registry' }],
        image: { repository: 'registry.example.com/inferwatch', tag: '0.2.0' },
      },
    ],
    [
      'no ServiceMonitor, no rules, two dashboards',
      {
        serviceMonitor: { enabled: false },
        prometheusRule: { enabled: false },
        dashboards: { names: ['fleet', 'node'] },
      },
    ],
  ])('validate against the Kubernetes and Prometheus Operator schemas: %s', (_name, overrides) => {
    validate(rendered(overrides));
  });

  it('validate as shipped, and the validator does catch a wrong type', () => {
    validate(docs);
    expect(docs.map((d) => d.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'DaemonSet',
        'Namespace',
        'PrometheusRule',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
        ...Array(5).fill('ConfigMap'),
      ].sort(),
    );
    const broken = JSON.parse(JSON.stringify(byKind(docs, 'Service')[0])) as {
      spec: { ports: { port: unknown }[] };
    };
    broken.spec.ports[0]!.port = 'nine thousand';
    expect(() => new Service(broken as never).validate()).toThrow();
  });

  it('values the chart schema refuses are named by their path', () => {
    expect(() => chartValues(chart, { kernelLog: 'sometimes' })).toThrow(
      /^kubernetes\.kernelLog: /,
    );
    expect(() => chartValues(chart, { serviceMonitor: { interval: 'often' } })).toThrow(
      'kubernetes.serviceMonitor.interval: must be a Prometheus duration such as 15s',
    );
    expect(JSON.parse(chart.get('values.schema.json') ?? '')).toMatchObject({
      type: 'object',
      additionalProperties: false,
    });
  });

  it("are selected by kube-prometheus-stack's default selectors (release: <its release>)", () => {
    // Its Prometheus, with serviceMonitorSelectorNilUsesHelmValues and ruleSelectorNilUsesHelmValues
    // (both true by default), selects objects labelled with its release name, in any namespace.
    const selector = { release: 'kube-prometheus-stack' };
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      const labels = byKind(docs, kind)[0]?.metadata.labels ?? {};
      for (const [k, v] of Object.entries(selector)) expect(labels[k], kind).toBe(v);
    }
    // A release under another name says so once, for both.
    const mine = rendered({
      serviceMonitor: { labels: { release: 'prom' } },
      prometheusRule: { labels: { release: 'prom' } },
    });
    for (const kind of ['ServiceMonitor', 'PrometheusRule'])
      expect(byKind(mine, kind)[0]?.metadata.labels?.['release']).toBe('prom');
  });

  it('carry the chosen rule groups and dashboards, unchanged', () => {
    const rules = parse(readFileSync(join(ROOT, 'alerts/inferwatch.rules.yml'), 'utf8')) as {
      groups: { name: string }[];
    };
    expect(
      (byKind(docs, 'PrometheusRule')[0] as unknown as { spec: { groups: unknown } }).spec.groups,
    ).toEqual(rules.groups);
    const some = rendered({ prometheusRule: { groups: ['inferwatch-gpu', 'inferwatch-slo'] } });
    expect(
      (byKind(some, 'PrometheusRule')[0] as unknown as { spec: { groups: unknown } }).spec.groups,
    ).toEqual(
      rules.groups.filter((g) => g.name === 'inferwatch-gpu' || g.name === 'inferwatch-slo'),
    );
    const dashboards = byKind(docs, 'ConfigMap').filter((c) =>
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
      expect(cm.metadata.labels?.['grafana_dashboard']).toBe('1');
    }
  });

  it('run the agent on every node it is let on, watching its own node with read-only access to pods', () => {
    const ds = byKind(docs, 'DaemonSet')[0] as unknown as {
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
    // Nothing vendor-specific: no RuntimeClass, no GPU node label.
    expect(pod.runtimeClassName).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.hostPID).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(true);
    const c = pod.containers[0] as {
      env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
      securityContext: Record<string, unknown>;
      volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
      resources: { requests: { memory: string } };
    };
    expect(c.env.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe(
      'spec.nodeName',
    );
    // Root in every mode: the image's own user (65534) could not read the kernel log.
    expect(c.securityContext).toMatchObject({
      privileged: true,
      readOnlyRootFilesystem: true,
      runAsUser: 0,
    });
    expect(
      c.volumeMounts.find((m) => m.mountPath === '/var/lib/kubelet/pod-resources'),
    ).toMatchObject({ readOnly: true });
    expect(c.volumeMounts.find((m) => m.mountPath === '/dev/kmsg')).toMatchObject({
      readOnly: true,
    });
    // The measured 140 MB of a loaded node fits under the request.
    expect(c.resources.requests.memory).toBe('160Mi');
    const role = byKind(docs, 'ClusterRole')[0] as unknown as { rules: unknown[] };
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    // kmsg: CAP_SYSLOG alone, not privileged; off: no kernel log at all.
    const kmsg = byKind(rendered({ kernelLog: 'kmsg' }), 'DaemonSet')[0] as unknown as typeof ds;
    expect(
      (kmsg.spec.template.spec.containers[0] as { securityContext: unknown }).securityContext,
    ).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['SYSLOG'] },
    });
    const off = byKind(rendered({ kernelLog: 'off' }), 'DaemonSet')[0] as unknown as typeof ds;
    expect(off.spec.template.spec.volumes.map((v) => v.name)).not.toContain('kmsg');
    const sm = byKind(docs, 'ServiceMonitor')[0] as unknown as {
      spec: { endpoints: { relabelings: { targetLabel: string }[] }[] };
    };
    expect(sm.spec.endpoints[0]!.relabelings.map((r) => r.targetLabel)).toContain('node');
  });

  it('page a node down with the series kube-prometheus scrapes (promtool test rules)', (ctx) => {
    if (!requireTool('promtool', 'prometheus', () => ctx.skip())) return;
    const dir = mkdtempSync(join(tmpdir(), 'inferwatch-kube-prometheus-'));
    const settings = SETTINGS.replace(
      '  node_exporter: node\n',
      '  node_exporter: node-exporter\n',
    ).replace('  node_exporter_node_label: node\n', '  node_exporter_node_label: instance\n');
    expect(settings).not.toBe(SETTINGS);
    const files = bundleFiles(settings, 'settings.yaml', dir);
    writeFileSync(
      join(dir, 'inferwatch.rules.yml'),
      files.get(join(dir, 'inferwatch.rules.yml')) ?? '',
    );
    cpSync(join(ROOT, 'alerts/tests/kube-prometheus/host.test.yml'), join(dir, 'host.test.yml'));
    const run = spawnSync('promtool', ['test', 'rules', join(dir, 'host.test.yml')], {
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });
});

describe('the chart template renderer', () => {
  const ctx = {
    Values: { a: { b: 'x' }, list: ['p', 'q'], empty: [], map: { k: 'v', j: 1 } },
    Release: { Name: 'r', Namespace: 'n' },
    Chart: { Name: 'c', Version: '1', AppVersion: '2' },
    files: new Map([
      ['files/p.txt', 'P\n'],
      ['files/q.txt', 'Q\n'],
    ]),
  };
  it('renders what Go templates render for the constructs the chart uses', () => {
    expect(render('a: {{ .Values.a.b }}\n{{- if .Values.empty }}\nno\n{{- end }}\nz', ctx)).toBe(
      'a: x\nz',
    );
    expect(render('m:\n  {{- toYaml .Values.map | nindent 2 }}', ctx)).toBe('m:\n  j: 1\n  k: v');
    expect(
      render('{{- range $i := .Values.list }}\n- {{ $i }}:{{ $.Release.Name }}\n{{- end }}', ctx),
    ).toBe('\n- p:r\n- q:r');
    expect(
      render('{{ .Values.none | default .Chart.AppVersion }} {{ .Values.a.b | quote }}', ctx),
    ).toBe('2 "x"');
    expect(
      render(
        '{{- range $i := .Values.list }}{{ $.Files.Get (printf "files/%s.txt" $i) | indent 1 }}{{- end }}',
        ctx,
      ),
    ).toBe(' P\n  Q\n ');
  });
  it('refuses what it was not taught, and the dot inside a range', () => {
    expect(() => render('{{ include "x" . }}', ctx)).toThrow(TemplateError);
    expect(() => render('{{- range $i := .Values.list }}{{ .Values.a.b }}{{- end }}', ctx)).toThrow(
      /inside a range/,
    );
    expect(() => render('{{- if .Values.a }}', ctx)).toThrow(/not ended/);
    expect(() => render('{{ .Values.map }}', ctx)).toThrow(/without toYaml/);
  });
});

describe('the Dockerfile', () => {
  it('puts the single-file executable alone on a slim base, run as an unprivileged user', () => {
    const text = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    expect(text.match(/^FROM /gm)).toEqual(['FROM ']);
    expect(text).toMatch(/^FROM docker\.io\/library\/debian:bookworm-slim$/m);
    expect(text).toMatch(/^COPY dist\/release\/inferwatch \/usr\/local\/bin\/inferwatch$/m);
    expect(text).toMatch(/^USER 65534:65534$/m);
    // The build context is the executable alone (test/release builds and runs the image).
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8')).toMatch(
      /^\*\n!dist\/release\/inferwatch$/m,
    );
  });
});
