import { counter, gauge } from '../../core/metric.js';

const GPU = ['gpu', 'uuid', 'gpu_model'] as const;

export const GPU_GRAPHICS_ENGINE_ACTIVE = gauge(
  'inferwatch_gpu_graphics_engine_active_ratio',
  'Fraction of time the graphics or compute engine was busy (DCGM_FI_PROF_GR_ENGINE_ACTIVE). A MIG GPU has it per instance instead: inferwatch_gpu_mig_graphics_engine_active_ratio.',
  GPU,
);
export const GPU_SM_ACTIVE = gauge(
  'inferwatch_gpu_sm_active_ratio',
  'Fraction of cycles an SM had at least one warp assigned, averaged over all SMs (DCGM_FI_PROF_SM_ACTIVE).',
  GPU,
);
export const GPU_SM_OCCUPANCY = gauge(
  'inferwatch_gpu_sm_occupancy_ratio',
  'Warps resident on an SM as a fraction of the most it can hold, averaged over all SMs (DCGM_FI_PROF_SM_OCCUPANCY).',
  GPU,
);
export const GPU_TENSOR_ACTIVE = gauge(
  'inferwatch_gpu_tensor_active_ratio',
  'Fraction of cycles the tensor (HMMA/IMMA) pipe was active (DCGM_FI_PROF_PIPE_TENSOR_ACTIVE).',
  GPU,
);
export const GPU_DRAM_ACTIVE = gauge(
  'inferwatch_gpu_dram_active_ratio',
  'Fraction of cycles the device memory interface was sending or receiving data (DCGM_FI_PROF_DRAM_ACTIVE).',
  GPU,
);
export const GPU_PCIE_THROUGHPUT = gauge(
  'inferwatch_gpu_pcie_throughput_bytes_per_second',
  'PCIe traffic, headers and payload, by direction (transmit, receive), as DCGM averaged it over its sample period (DCGM_FI_PROF_PCIE_TX_BYTES, _RX_BYTES).',
  [...GPU, 'direction'],
);
export const GPU_NVLINK_THROUGHPUT = gauge(
  'inferwatch_gpu_nvlink_throughput_bytes_per_second',
  'NVLink traffic over all links, by direction (transmit, receive), as DCGM averaged it over its sample period (DCGM_FI_PROF_NVLINK_TX_BYTES, _RX_BYTES).',
  [...GPU, 'direction'],
);
export const GPU_NVLINK_ERRORS = counter(
  'inferwatch_gpu_nvlink_errors_total',
  'NVLink errors over all links, by type: crc_flit, crc_data, replay, recovery (DCGM_FI_DEV_NVLINK_*_ERROR_COUNT_TOTAL).',
  [...GPU, 'type'],
);
export const GPU_PCIE_REPLAYS = counter(
  'inferwatch_gpu_pcie_replays_total',
  'PCIe packets the GPU had to send again (DCGM_FI_DEV_PCIE_REPLAY_COUNTER); a rising rate means a bad link or riser.',
  GPU,
);
export const GPU_CLOCK_VIOLATION_SECONDS = counter(
  'inferwatch_gpu_clock_violation_seconds_total',
  'Time the GPU was held below its application clocks, by policy: power, thermal, sync_boost, board_limit, low_utilization, reliability (DCGM_FI_DEV_*_VIOLATION).',
  [...GPU, 'policy'],
);

/** A MIG instance: its parent GPU's labels, its GPU instance id and profile. */
const MIG = [...GPU, 'gpu_instance', 'mig_profile'] as const;
const migHelp = (what: string) =>
  `${what}, per MIG GPU instance (dcgm-exporter's GPU_I_ID and GPU_I_PROFILE); the instance's share of the GPU, not the whole GPU's.`;

export const MIG_INSTANCE_INFO = gauge(
  'inferwatch_gpu_mig_instance_info',
  'A constant 1 per MIG GPU instance DCGM reports, labelled by its parent GPU, its id and its profile (such as 1g.10gb).',
  MIG,
);
export const MIG_GRAPHICS_ENGINE_ACTIVE = gauge(
  'inferwatch_gpu_mig_graphics_engine_active_ratio',
  migHelp(
    'Fraction of time the graphics or compute engine was busy (DCGM_FI_PROF_GR_ENGINE_ACTIVE)',
  ),
  MIG,
);
export const MIG_SM_ACTIVE = gauge(
  'inferwatch_gpu_mig_sm_active_ratio',
  migHelp('Fraction of cycles an SM had at least one warp assigned (DCGM_FI_PROF_SM_ACTIVE)'),
  MIG,
);
export const MIG_SM_OCCUPANCY = gauge(
  'inferwatch_gpu_mig_sm_occupancy_ratio',
  migHelp(
    'Warps resident on an SM as a fraction of the most it can hold (DCGM_FI_PROF_SM_OCCUPANCY)',
  ),
  MIG,
);
export const MIG_TENSOR_ACTIVE = gauge(
  'inferwatch_gpu_mig_tensor_active_ratio',
  migHelp('Fraction of cycles the tensor pipe was active (DCGM_FI_PROF_PIPE_TENSOR_ACTIVE)'),
  MIG,
);
export const MIG_DRAM_ACTIVE = gauge(
  'inferwatch_gpu_mig_dram_active_ratio',
  migHelp('Fraction of cycles the memory interface was busy (DCGM_FI_PROF_DRAM_ACTIVE)'),
  MIG,
);
export const MIG_MEMORY_USED = gauge(
  'inferwatch_gpu_mig_memory_used_bytes',
  migHelp('Device memory allocated (DCGM_FI_DEV_FB_USED)'),
  MIG,
);
export const MIG_MEMORY_FREE = gauge(
  'inferwatch_gpu_mig_memory_free_bytes',
  migHelp('Device memory free (DCGM_FI_DEV_FB_FREE)'),
  MIG,
);
export const MIG_MEMORY_RESERVED = gauge(
  'inferwatch_gpu_mig_memory_reserved_bytes',
  migHelp('Device memory reserved by the driver (DCGM_FI_DEV_FB_RESERVED)'),
  MIG,
);
export const MIG_MEMORY_TOTAL = gauge(
  'inferwatch_gpu_mig_memory_total_bytes',
  migHelp('Device memory of the instance (DCGM_FI_DEV_FB_TOTAL, or used + free + reserved)'),
  MIG,
);

export const MIG_METRICS = [
  MIG_INSTANCE_INFO,
  MIG_GRAPHICS_ENGINE_ACTIVE,
  MIG_SM_ACTIVE,
  MIG_SM_OCCUPANCY,
  MIG_TENSOR_ACTIVE,
  MIG_DRAM_ACTIVE,
  MIG_MEMORY_USED,
  MIG_MEMORY_FREE,
  MIG_MEMORY_RESERVED,
  MIG_MEMORY_TOTAL,
];

export const DCGM_ONLY_METRICS = [
  GPU_GRAPHICS_ENGINE_ACTIVE,
  GPU_SM_ACTIVE,
  GPU_SM_OCCUPANCY,
  GPU_TENSOR_ACTIVE,
  GPU_DRAM_ACTIVE,
  GPU_PCIE_THROUGHPUT,
  GPU_NVLINK_THROUGHPUT,
  GPU_NVLINK_ERRORS,
  GPU_PCIE_REPLAYS,
  GPU_CLOCK_VIOLATION_SECONDS,
  ...MIG_METRICS,
];
