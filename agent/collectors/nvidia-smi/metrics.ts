import { gauge } from '../../core/metric.js';
import { GPU_LABELS } from '../../shared/gpu-metrics.js';
import { PLACE_LABELS } from '../../shared/place.js';

/** nvidia-smi's own families: the ones it alone reads, emitted by its collectors directly. */
export const GPU_COUNT = gauge(
  'inferwatch_gpu_devices',
  'GPUs that nvidia-smi reported in its last sample.',
);

export const GPU_PROCESS_MEMORY_USED = gauge(
  'inferwatch_gpu_process_memory_used_bytes',
  'Device memory used by a compute process (nvidia-smi --query-compute-apps, sampled every 10 s by default), with the runtime and target that own it when the agent can tell (empty otherwise) and, in a cluster, its namespace, pod and container.',
  [...GPU_LABELS, 'pid', 'process', 'runtime', 'target', ...PLACE_LABELS],
);
