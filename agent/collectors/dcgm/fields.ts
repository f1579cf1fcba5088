import type { Labels, MetricDef } from '../../core/metric.js';
import * as smi from '../../shared/gpu-metrics.js';
import * as m from './metrics.js';

/**
 * One DCGM field and the inferwatch family it lands in. `shared` families nvidia-smi reads too
 * (the GPU view decides who speaks for each GPU); the others only DCGM can read.
 */
export interface DcgmField {
  readonly name: string;
  readonly metric: MetricDef;
  readonly labels: Labels;
  readonly convert: (value: number) => number;
  readonly shared: boolean;
  /** Where DCGM measures the field per MIG instance: the per-instance family. */
  readonly mig?: MetricDef;
}

const MIB = 1024 * 1024;
const same = (v: number) => v;
const percent = (v: number) => v / 100;
const mib = (v: number) => v * MIB;
const mhz = (v: number) => v * 1e6;
// NVML counts violation time in nanoseconds; dcgm-exporter's help said µs until its PR #589.
const ns = (v: number) => v / 1e9;
const flag = (v: number) => (v > 0 ? 1 : 0);

const own = (name: string, metric: MetricDef, convert = same, labels: Labels = {}): DcgmField => ({
  name,
  metric,
  labels,
  convert,
  shared: false,
});
const shared = (
  name: string,
  metric: MetricDef,
  convert = same,
  labels: Labels = {},
): DcgmField => ({ name, metric, labels, convert, shared: true });
/** A field DCGM also measures per MIG instance, landing in `mig` for an instance's row. */
const perInstance = (field: DcgmField, mig: MetricDef): DcgmField => ({ ...field, mig });

export const DCGM_FIELDS: readonly DcgmField[] = [
  perInstance(
    own('DCGM_FI_PROF_GR_ENGINE_ACTIVE', m.GPU_GRAPHICS_ENGINE_ACTIVE),
    m.MIG_GRAPHICS_ENGINE_ACTIVE,
  ),
  perInstance(own('DCGM_FI_PROF_SM_ACTIVE', m.GPU_SM_ACTIVE), m.MIG_SM_ACTIVE),
  perInstance(own('DCGM_FI_PROF_SM_OCCUPANCY', m.GPU_SM_OCCUPANCY), m.MIG_SM_OCCUPANCY),
  perInstance(own('DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', m.GPU_TENSOR_ACTIVE), m.MIG_TENSOR_ACTIVE),
  perInstance(own('DCGM_FI_PROF_DRAM_ACTIVE', m.GPU_DRAM_ACTIVE), m.MIG_DRAM_ACTIVE),
  own('DCGM_FI_PROF_PCIE_TX_BYTES', m.GPU_PCIE_THROUGHPUT, same, { direction: 'transmit' }),
  own('DCGM_FI_PROF_PCIE_RX_BYTES', m.GPU_PCIE_THROUGHPUT, same, { direction: 'receive' }),
  own('DCGM_FI_PROF_NVLINK_TX_BYTES', m.GPU_NVLINK_THROUGHPUT, same, { direction: 'transmit' }),
  own('DCGM_FI_PROF_NVLINK_RX_BYTES', m.GPU_NVLINK_THROUGHPUT, same, { direction: 'receive' }),
  ...(
    [
      ['CRC_FLIT', 'crc_flit'],
      ['CRC_DATA', 'crc_data'],
      ['REPLAY', 'replay'],
      ['RECOVERY', 'recovery'],
    ] as const
  ).map(([field, type]) =>
    own(`DCGM_FI_DEV_NVLINK_${field}_ERROR_COUNT_TOTAL`, m.GPU_NVLINK_ERRORS, same, { type }),
  ),
  own('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', m.GPU_PCIE_REPLAYS),
  ...(
    [
      ['POWER', 'power'],
      ['THERMAL', 'thermal'],
      ['SYNC_BOOST', 'sync_boost'],
      ['BOARD_LIMIT', 'board_limit'],
      ['LOW_UTIL', 'low_utilization'],
      ['RELIABILITY', 'reliability'],
    ] as const
  ).map(([field, policy]) =>
    own(`DCGM_FI_DEV_${field}_VIOLATION`, m.GPU_CLOCK_VIOLATION_SECONDS, ns, { policy }),
  ),

  shared('DCGM_FI_DEV_GPU_UTIL', smi.GPU_UTILIZATION, percent),
  shared('DCGM_FI_DEV_MEM_COPY_UTIL', smi.GPU_MEMORY_BANDWIDTH_UTILIZATION, percent),
  perInstance(shared('DCGM_FI_DEV_FB_USED', smi.GPU_MEMORY_USED, mib), m.MIG_MEMORY_USED),
  perInstance(shared('DCGM_FI_DEV_FB_FREE', smi.GPU_MEMORY_FREE, mib), m.MIG_MEMORY_FREE),
  perInstance(
    shared('DCGM_FI_DEV_FB_RESERVED', smi.GPU_MEMORY_RESERVED, mib),
    m.MIG_MEMORY_RESERVED,
  ),
  perInstance(shared('DCGM_FI_DEV_FB_TOTAL', smi.GPU_MEMORY_TOTAL, mib), m.MIG_MEMORY_TOTAL),
  shared('DCGM_FI_DEV_GPU_TEMP', smi.GPU_TEMPERATURE, same, { sensor: 'gpu' }),
  shared('DCGM_FI_DEV_MEMORY_TEMP', smi.GPU_TEMPERATURE, same, { sensor: 'memory' }),
  shared('DCGM_FI_DEV_POWER_USAGE', smi.GPU_POWER_DRAW),
  shared('DCGM_FI_DEV_ENFORCED_POWER_LIMIT', smi.GPU_POWER_LIMIT),
  shared('DCGM_FI_DEV_SM_CLOCK', smi.GPU_CLOCK, mhz, { clock: 'sm' }),
  shared('DCGM_FI_DEV_MEM_CLOCK', smi.GPU_CLOCK, mhz, { clock: 'memory' }),
  ...(
    [
      ['SBE', 'corrected'],
      ['DBE', 'uncorrected'],
    ] as const
  ).flatMap(([bits, type]) =>
    (
      [
        ['VOL', 'volatile'],
        ['AGG', 'aggregate'],
      ] as const
    ).map(([field, scope]) =>
      shared(`DCGM_FI_DEV_ECC_${bits}_${field}_TOTAL`, smi.GPU_ECC_ERRORS, same, { type, scope }),
    ),
  ),
  shared('DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS', smi.GPU_REMAPPED_ROWS, same, {
    type: 'correctable',
  }),
  shared('DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS', smi.GPU_REMAPPED_ROWS, same, {
    type: 'uncorrectable',
  }),
  shared('DCGM_FI_DEV_ROW_REMAP_PENDING', smi.GPU_REMAPPED_ROWS_PENDING, flag),
  shared('DCGM_FI_DEV_ROW_REMAP_FAILURE', smi.GPU_REMAPPED_ROWS_FAILURE, flag),
  shared('DCGM_FI_DEV_RETIRED_PENDING', smi.GPU_RETIRED_PAGES_PENDING, flag),
];

/** Read apart from the table: the energy counter feeds the shared ledger, Xids theirs. */
export const ENERGY_FIELD = 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION';
export const XID_WINDOW_FIELD = 'DCGM_EXP_XID_ERRORS_COUNT';
export const XID_LAST_FIELD = 'DCGM_FI_DEV_XID_ERRORS';
