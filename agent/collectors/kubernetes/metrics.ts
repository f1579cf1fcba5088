import { counter, gauge } from '../../core/metric.js';
import { GPU_LABELS } from '../../shared/gpu-metrics.js';
import { PLACE_LABELS } from '../../shared/place.js';

export const PODS = gauge(
  'inferwatch_kubernetes_pods',
  'Pods on this node the agent watches, by phase.',
  ['phase'],
);
export const PODS_DROPPED = gauge(
  'inferwatch_kubernetes_pods_dropped',
  'Pods on this node beyond collectors.kubernetes.max_pods, left out.',
);
export const WATCH_SYNCED = gauge(
  'inferwatch_kubernetes_watch_synced',
  "Whether the agent's view of this node's pods is current (1): listed, and the watch since then has not failed.",
);
export const WATCH_FAILURES = counter(
  'inferwatch_kubernetes_watch_failures_total',
  'Pod lists and watches that failed (the API server unreachable, refusing, or answering what is not a pod list).',
);
export const GPU_POD = gauge(
  'inferwatch_gpu_pod_info',
  "The pod a GPU, or a MIG device of it, is allocated to, from the kubelet's pod-resources API: 1 per device and container. Join on uuid to label a GPU's series with its pod. device is the ID the device plugin gave it (a GPU or MIG UUID); gpu, uuid and gpu_model are empty for a device the agent cannot place on a GPU.",
  [...GPU_LABELS, 'device', 'resource', ...PLACE_LABELS],
);

export const KUBERNETES_METRICS = [PODS, PODS_DROPPED, WATCH_SYNCED, WATCH_FAILURES] as const;
