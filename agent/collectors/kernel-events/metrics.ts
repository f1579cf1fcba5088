import { counter } from '../../core/metric.js';

export const GPU_XID_ERRORS = counter(
  'inferwatch_gpu_xid_errors_total',
  'Xid errors since the agent started, by GPU and code, from the kernel log ("GPU has fallen off the bus" counts as 79), or from dcgm-exporter while the kernel log cannot be read (which can miss events). Paged codes exist at 0 for every GPU from the start.',
  ['gpu', 'uuid', 'gpu_model', 'pci_bus_id', 'xid'],
);
export const OOM_KILL_VICTIMS = counter(
  'inferwatch_oom_kill_victims_total',
  'Processes the kernel OOM killer killed since the agent started, by process name (from the kernel log).',
  ['process'],
);

export const KERNEL_EVENT_METRICS = [GPU_XID_ERRORS, OOM_KILL_VICTIMS];
