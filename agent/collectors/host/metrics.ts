import { counter, gauge } from '../../core/metric.js';

export const HOST_CPU_SECONDS = counter(
  'inferwatch_host_cpu_seconds_total',
  "CPU time since boot, all cores together, by mode (/proc/stat's user, nice, system, idle, iowait, irq, softirq, steal; guest time is inside user). The busy share is 1 - rate of idle and iowait over rate of all.",
  ['mode'],
);
export const HOST_MEMORY_USED = gauge(
  'inferwatch_host_memory_used_bytes',
  'Memory in use: total minus available (MemTotal - MemAvailable).',
);
export const HOST_MEMORY_AVAILABLE = gauge(
  'inferwatch_host_memory_available_bytes',
  'Memory available for new work without swapping (MemAvailable).',
);
export const HOST_MEMORY_TOTAL = gauge(
  'inferwatch_host_memory_total_bytes',
  'Memory installed (MemTotal).',
);
export const HOST_FILESYSTEM_FREE = gauge(
  'inferwatch_host_filesystem_free_bytes',
  'Bytes free to unprivileged users on the filesystem holding the configured path (the model store, say).',
  ['path'],
);
export const HOST_OOM_KILLS = counter(
  'inferwatch_host_oom_kills_total',
  'Processes the kernel OOM killer killed since boot (/proc/vmstat oom_kill).',
);

export const HOST_INFO = gauge(
  'inferwatch_host_info',
  'A constant 1, labelled by what the host is (OS and version, kernel, architecture, server vendor and model, CPU model), read at start and on reload; a new kernel shows as a new series.',
  ['os', 'os_version', 'kernel', 'arch', 'system_vendor', 'system_model', 'cpu_model'],
);
export const HOST_CPU_CORES = gauge(
  'inferwatch_host_cpu_cores',
  'CPU cores the host has: logical (hardware threads) or physical, read at start and on reload.',
  ['kind'],
);

export const HOST_METRICS = [
  HOST_INFO,
  HOST_CPU_CORES,
  HOST_CPU_SECONDS,
  HOST_MEMORY_USED,
  HOST_MEMORY_AVAILABLE,
  HOST_MEMORY_TOTAL,
  HOST_FILESYSTEM_FREE,
  HOST_OOM_KILLS,
];
