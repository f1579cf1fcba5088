import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { VERSION } from '../../../agent/core/version.js';

/** The repository root, from the built file (dist/deploy/kubernetes/src/manifests.js). */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const NAMESPACE = 'inferwatch';
const LABELS = { 'app.kubernetes.io/name': 'inferwatch', 'app.kubernetes.io/version': VERSION };
const SELECTOR = { 'app.kubernetes.io/name': 'inferwatch' };
const DASHBOARDS = ['fleet', 'node', 'runtime', 'probe', 'cost'] as const;

type Manifest = Record<string, unknown> & { kind: string };

/**
 * The Kubernetes objects, built from the bundle itself: the PrometheusRule holds
 * alerts/inferwatch.rules.yml's groups and the dashboard ConfigMaps hold dashboards/*.json,
 * so they never drift (a test compares the committed file with what this builds).
 */
export async function manifests(root = ROOT): Promise<Manifest[]> {
  const rules = parse(await readFile(join(root, 'alerts/inferwatch.rules.yml'), 'utf8')) as {
    groups: unknown[];
  };
  const dashboards = new Map<string, string>();
  for (const name of DASHBOARDS)
    dashboards.set(
      `${name}.json`,
      await readFile(join(root, 'dashboards', `${name}.json`), 'utf8'),
    );
  return manifestsFrom(rules.groups, dashboards);
}

/** The objects, from the rule groups and the dashboards' files (`fleet.json`: its JSON). */
export function manifestsFrom(
  groups: readonly unknown[],
  dashboardFiles: ReadonlyMap<string, string>,
): Manifest[] {
  const rules = { groups };
  const dashboards = [...dashboardFiles].map(
    ([file, json]) => [file.replace(/\.json$/, ''), json] as const,
  );
  const meta = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    namespace: NAMESPACE,
    labels: { ...LABELS },
    ...extra,
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { ...LABELS } } },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta('inferwatch'),
      automountServiceAccountToken: false,
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('inferwatch-config'),
      data: {
        'config.yaml': [
          '# The agent config; see the README for every field.',
          'listen: 0.0.0.0:9500',
          'collectors:',
          '  host:',
          '    proc_path: /host/proc',
          '',
        ].join('\n'),
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta('inferwatch'),
      spec: {
        selector: { matchLabels: SELECTOR },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
        template: {
          metadata: { labels: { ...LABELS } },
          spec: {
            serviceAccountName: 'inferwatch',
            automountServiceAccountToken: false,
            // The NVIDIA container runtime puts nvidia-smi and the driver's libraries in the pod.
            runtimeClassName: 'nvidia',
            nodeSelector: { 'nvidia.com/gpu.present': 'true' },
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
            // Not the host's PID namespace: per-process GPU memory by runtime needs it, and is
            // off here (see the README).
            hostPID: false,
            priorityClassName: 'system-node-critical',
            containers: [
              {
                name: 'inferwatch',
                image: `inferwatch:${VERSION}`,
                imagePullPolicy: 'IfNotPresent',
                args: ['run', '--config', '/etc/inferwatch/config.yaml'],
                ports: [{ name: 'metrics', containerPort: 9500, protocol: 'TCP' }],
                env: [
                  { name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' },
                  { name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'utility' },
                ],
                // Root, with every capability dropped but CAP_SYSLOG: Kubernetes gives a
                // non-root process no capabilities, and reading the kernel log needs this one.
                securityContext: {
                  runAsUser: 0,
                  runAsNonRoot: false,
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'], add: ['SYSLOG'] },
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                readinessProbe: {
                  httpGet: { path: '/healthz', port: 'metrics' },
                  periodSeconds: 10,
                },
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 'metrics' },
                  periodSeconds: 30,
                  failureThreshold: 5,
                },
                resources: {
                  requests: { cpu: '50m', memory: '96Mi' },
                  limits: { memory: '256Mi' },
                },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/inferwatch', readOnly: true },
                  { name: 'kmsg', mountPath: '/dev/kmsg', readOnly: true },
                  { name: 'proc', mountPath: '/host/proc', readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                  // The evaluation's baselines outlive the pod: kept on the node.
                  { name: 'state', mountPath: '/var/lib/inferwatch' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'inferwatch-config' } },
              { name: 'kmsg', hostPath: { path: '/dev/kmsg', type: 'CharDevice' } },
              { name: 'proc', hostPath: { path: '/proc', type: 'Directory' } },
              { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
              {
                name: 'state',
                hostPath: { path: '/var/lib/inferwatch', type: 'DirectoryOrCreate' },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('inferwatch'),
      spec: {
        clusterIP: 'None',
        selector: SELECTOR,
        ports: [{ name: 'metrics', port: 9500, targetPort: 'metrics', protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: meta('inferwatch'),
      spec: {
        selector: { matchLabels: SELECTOR },
        endpoints: [
          {
            port: 'metrics',
            interval: '15s',
            // The `node` label the alerts and the Alertmanager inhibitions join on.
            relabelings: [
              {
                sourceLabels: ['__meta_kubernetes_pod_node_name'],
                targetLabel: 'node',
                action: 'replace',
              },
            ],
          },
        ],
      },
    },
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: meta('inferwatch'),
      spec: { groups: rules.groups },
    },
    ...dashboards.map(([name, json]) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      // The Grafana sidecar (kube-prometheus-stack) loads ConfigMaps with this label.
      metadata: meta(`inferwatch-dashboard-${name}`, {
        labels: { ...LABELS, grafana_dashboard: '1' },
      }),
      data: { [`inferwatch-${name}.json`]: json },
    })),
  ];
}

export function manifestsText(list: readonly Manifest[]): string {
  const header =
    '# Generated by `npm run bundle` from alerts/settings.yaml, with the rules and dashboards; do not edit.\n';
  return header + list.map((m) => `---\n${stringify(m, { lineWidth: 0 })}`).join('');
}
