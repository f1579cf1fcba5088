import { counter, gauge } from '../core/metric.js';

/**
 * The per-GPU families: every GPU reader (nvidia-smi, dcgm-exporter, the kernel log) may see
 * them, and the GPU view alone writes them, one speaker per GPU and family.
 */

/** The labels that name a GPU on every per-GPU series. */
export const GPU_LABELS = ['gpu', 'uuid', 'gpu_model'] as const;
const GPU = GPU_LABELS;

export const GPU_INFO = gauge(
  'inferwatch_gpu_info',
  'A constant 1 per GPU, labelled by its identity (model, driver, CUDA, PCI bus, MIG and persistence mode).',
  [
    ...GPU,
    'driver_version',
    'cuda_version',
    'pci_bus_id',
    'vbios_version',
    'compute_cap',
    'mig_mode',
    'persistence_mode',
  ],
);
export const GPU_UTILIZATION = gauge(
  'inferwatch_gpu_utilization_ratio',
  'Fraction of the last sample period in which one or more kernels ran (nvidia-smi utilization.gpu). Absent under MIG.',
  GPU,
);
export const GPU_MEMORY_BANDWIDTH_UTILIZATION = gauge(
  'inferwatch_gpu_memory_bandwidth_utilization_ratio',
  'Fraction of the last sample period in which device memory was read or written (nvidia-smi utilization.memory); not how full it is.',
  GPU,
);
export const GPU_MEMORY_USED = gauge(
  'inferwatch_gpu_memory_used_bytes',
  'Device memory allocated by active contexts.',
  GPU,
);
export const GPU_MEMORY_FREE = gauge(
  'inferwatch_gpu_memory_free_bytes',
  'Device memory free.',
  GPU,
);
export const GPU_MEMORY_TOTAL = gauge(
  'inferwatch_gpu_memory_total_bytes',
  'Device memory installed.',
  GPU,
);
export const GPU_MEMORY_RESERVED = gauge(
  'inferwatch_gpu_memory_reserved_bytes',
  'Device memory reserved by the driver and firmware.',
  GPU,
);
export const GPU_TEMPERATURE = gauge(
  'inferwatch_gpu_temperature_celsius',
  'Temperature of the GPU die (sensor="gpu") or of its HBM (sensor="memory").',
  [...GPU, 'sensor'],
);
export const GPU_POWER_DRAW = gauge(
  'inferwatch_gpu_power_draw_watts',
  'Power drawn by the board (a 1 s average on Ampere and newer).',
  GPU,
);
export const GPU_POWER_LIMIT = gauge(
  'inferwatch_gpu_power_limit_watts',
  'Power limit the driver enforces (enforced.power.limit).',
  GPU,
);
export const GPU_ENERGY = counter(
  'inferwatch_gpu_energy_joules_total',
  "Energy used since the agent started: advanced by DCGM's energy counter while a dcgm-exporter reports the GPU, else by the agent's integral of power.draw samples (trapezoid rule; gaps over 5 sample intervals are not counted).",
  GPU,
);
export const GPU_FAN_SPEED = gauge(
  'inferwatch_gpu_fan_speed_ratio',
  'Intended fan speed as a fraction of its maximum (may exceed 1). Absent on passively cooled GPUs.',
  GPU,
);
export const GPU_PERFORMANCE_STATE = gauge(
  'inferwatch_gpu_performance_state',
  'Performance state, 0 (P0, maximum performance) to 15 (P15, minimum).',
  GPU,
);
export const GPU_CLOCK = gauge(
  'inferwatch_gpu_clock_hertz',
  'Current clock frequency, by clock (graphics, sm, memory, video).',
  [...GPU, 'clock'],
);
export const GPU_CLOCK_MAX = gauge(
  'inferwatch_gpu_clock_max_hertz',
  'Maximum clock frequency, by clock (graphics, sm, memory).',
  [...GPU, 'clock'],
);
export const GPU_CLOCK_EVENT_ACTIVE = gauge(
  'inferwatch_gpu_clock_event_active',
  'Whether a reason for lowered clocks is active now (1) or not (0): power cap, thermal or hardware slowdown, idle, ...',
  [...GPU, 'reason'],
);
export const GPU_CLOCK_EVENT_SECONDS = counter(
  'inferwatch_gpu_clock_event_seconds_total',
  'Time clocks were lowered for the reason, as counted by the driver (clocks_event_reasons_counters).',
  [...GPU, 'reason'],
);
export const GPU_ECC_ERRORS = counter(
  'inferwatch_gpu_ecc_errors_total',
  'ECC errors, by type (corrected, uncorrected) and scope (volatile: since the driver loaded; aggregate: lifetime).',
  [...GPU, 'type', 'scope'],
);
export const GPU_REMAPPED_ROWS = gauge(
  'inferwatch_gpu_remapped_rows',
  'Memory rows remapped, by the type of error that caused it (correctable, uncorrectable).',
  [...GPU, 'type'],
);
export const GPU_REMAPPED_ROWS_PENDING = gauge(
  'inferwatch_gpu_remapped_rows_pending',
  '1 when a row remap is pending and the GPU needs a reset to apply it.',
  GPU,
);
export const GPU_REMAPPED_ROWS_FAILURE = gauge(
  'inferwatch_gpu_remapped_rows_failure',
  '1 when a row remap failed: the GPU needs service.',
  GPU,
);
export const GPU_RETIRED_PAGES_PENDING = gauge(
  'inferwatch_gpu_retired_pages_pending',
  '1 when a page retirement is pending until the next reboot (GPUs before Ampere).',
  GPU,
);
export const GPU_PCIE_LINK_GENERATION = gauge(
  'inferwatch_gpu_pcie_link_generation',
  'PCIe link generation: current (it drops when the GPU idles), or max, the most this GPU reaches in its slot.',
  [...GPU, 'state'],
);
export const GPU_PCIE_LINK_WIDTH = gauge(
  'inferwatch_gpu_pcie_link_width_lanes',
  'PCIe link width in lanes: current, or max, the most this GPU reaches in its slot.',
  [...GPU, 'state'],
);
export const GPU_RECOVERY_ACTION = gauge(
  'inferwatch_gpu_recovery_action',
  'Action the driver asks for: 0 none, 1 GPU reset, 2 node reboot, 3 drain P2P, 4 drain and reset.',
  GPU,
);
export const GPU_XID_ERRORS = counter(
  'inferwatch_gpu_xid_errors_total',
  'Xid errors since the agent started, by GPU and code, from the kernel log ("GPU has fallen off the bus" counts as 79), or from dcgm-exporter while the kernel log cannot be read (which can miss events). Paged codes exist at 0 for every GPU from the start.',
  [...GPU, 'pci_bus_id', 'xid'],
);

/**
 * The Xid codes that page (NVIDIA's catalogue: reset the GPU, reboot, drain): their series
 * exist at 0 for every GPU from the start, so `increase()` sees the first one.
 */
export const PAGED_XIDS = [
  46, 48, 62, 64, 74, 79, 95, 109, 110, 119, 120, 136, 140, 143, 144, 145, 146, 147, 148, 149, 150,
  151, 154, 155, 156, 158,
] as const;
