import { counter, gauge } from '../../core/metric.js';

const GPU = ['gpu', 'uuid', 'gpu_model'] as const;

export const GPU_GRAPHICS_ENGINE_ACTIVE = gauge(
  'inferwatch_gpu_graphics_engine_active_ratio',
  'Fraction of time the graphics or compute engine was busy (DCGM_FI_PROF_GR_ENGINE_ACTIVE); unlike utilization_ratio it exists under MIG.',
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
];
