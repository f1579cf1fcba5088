import { z } from 'zod';

/** The dashboards the chart can ship, one ConfigMap each. */
export const DASHBOARD_NAMES = ['fleet', 'node', 'runtime', 'probe', 'cost'] as const;

const labels = z.record(z.string().min(1).max(317), z.string().max(63));

/**
 * The Helm chart's values: validated here for the plain manifests and by Helm itself through
 * the chart's values.schema.json, generated from this schema. Defaults live in values.yaml
 * (VALUES_YAML), where each carries its comment.
 */
export const ValuesSchema = z.strictObject({
  image: z.strictObject({
    repository: z.string().min(1),
    tag: z.string(),
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  }),
  imagePullSecrets: z.array(z.strictObject({ name: z.string().min(1) })),
  config: z.string(),
  nodeSelector: labels,
  affinity: z.record(z.string(), z.unknown()),
  tolerations: z.array(z.record(z.string(), z.unknown())),
  runtimeClassName: z.string(),
  priorityClassName: z.string(),
  hostPID: z.boolean(),
  podResources: z.boolean(),
  kernelLog: z.enum(['privileged', 'kmsg', 'off']),
  resources: z.strictObject({
    requests: z.record(z.string(), z.union([z.string(), z.number()])),
    limits: z.record(z.string(), z.union([z.string(), z.number()])),
  }),
  serviceMonitor: z.strictObject({
    enabled: z.boolean(),
    interval: z.string().regex(/^\d+(ms|s|m|h)$/, 'must be a Prometheus duration such as 15s'),
    labels,
  }),
  prometheusRule: z.strictObject({
    enabled: z.boolean(),
    groups: z.array(z.string().min(1)),
    labels,
  }),
  dashboards: z.strictObject({
    enabled: z.boolean(),
    names: z.array(z.enum(DASHBOARD_NAMES)),
    labels,
  }),
});

export type ChartValues = z.output<typeof ValuesSchema>;

/**
 * values.yaml. Resource figures are from `npm run bench` (docs/performance.md): 77 MB resident
 * at one scrape a second with no runtime, 140 MB over a 25-minute soak with 8 GPUs, a vLLM,
 * dcgm-exporter and the probe; under 2 % of a core.
 */
export function valuesYaml(groups: readonly string[]): string {
  return `# Values of the inferwatch chart. The plain manifests (deploy/kubernetes/inferwatch.yaml) are
# this chart rendered with these values and the kubernetes block of alerts/settings.yaml.

image:
  # Build it with deploy/Dockerfile and push it to your registry; set the repository here.
  repository: inferwatch
  # Default: the chart's appVersion.
  tag: ""
  pullPolicy: IfNotPresent
imagePullSecrets: []

# The agent's config.yaml (every field: docs/configuration.md). In a pod it watches its
# node's pods and reads runtimes at their pod addresses by itself.
config: |
  listen: 0.0.0.0:9500
  collectors:
    host:
      proc_path: /host/proc

# Where the DaemonSet runs. Nothing vendor-specific by default: set the label your GPU nodes
# carry (GPU Feature Discovery: nvidia.com/gpu.present: "true"; GKE:
# cloud.google.com/gke-accelerator) to keep the agent off CPU-only nodes.
nodeSelector: {}
affinity: {}
# GPU nodes are often tainted so only GPU workloads land there.
tolerations:
  - key: nvidia.com/gpu
    operator: Exists
    effect: NoSchedule
# The NVIDIA container runtime puts nvidia-smi and the driver's libraries in the pod. Set
# "nvidia" where it is a RuntimeClass rather than the node's default runtime (the GPU Operator
# creates it); empty uses the node's default.
runtimeClassName: ""
priorityClassName: system-node-critical

# The host's PID namespace: GPU processes (nvidia-smi reports host PIDs) are tied to their pod
# and runtime through /proc. Off: per-process GPU memory carries no pod.
hostPID: true
# Mount the kubelet's pod-resources socket (read-only) to label each GPU with the pod it is
# allocated to, as dcgm-exporter does.
podResources: true
# How the agent reads the kernel log for Xid errors and OOM kills:
#   privileged  a privileged container, as node-problem-detector runs: always works.
#   kmsg        /dev/kmsg mounted, with CAP_SYSLOG only; works only where the container
#               runtime's device rules allow the kmsg device (most do not by default).
#   off         no kernel log: Xid errors come from dcgm-exporter's DCGM_FI_DEV_XID_ERRORS;
#               set collectors.kernel_events.enabled: false in config.
kernelLog: privileged

resources:
  requests:
    cpu: 50m
    memory: 160Mi
  limits:
    memory: 320Mi

serviceMonitor:
  enabled: true
  interval: 15s
  # kube-prometheus-stack's Prometheus selects ServiceMonitors labelled with its release name
  # (release: <name>): set it to yours.
  labels:
    release: kube-prometheus-stack

prometheusRule:
  enabled: true
  # The rule groups to ship (each is one area's alerts and recording rules).
  groups:
${groups.map((g) => `    - ${g}`).join('\n')}
  labels:
    release: kube-prometheus-stack

dashboards:
  enabled: true
  names: [${DASHBOARD_NAMES.join(', ')}]
  # The Grafana sidecar loads ConfigMaps with this label (kube-prometheus-stack's default).
  labels:
    grafana_dashboard: "1"
`;
}
