import type { Labels, MetricDef } from '../../core/metric.js';
import * as m from '../../shared/gpu-metrics.js';
import {
  activeFlag,
  mhzToHertz,
  mibToBytes,
  number,
  percentToRatio,
  performanceState,
  recoveryAction,
  usToSeconds,
  yesNo,
  type Convert,
} from './values.js';

/**
 * One nvidia-smi query field. `names` lists what drivers have called it, preferred first
 * (`clocks_event_reasons.*` since driver 535, `clocks_throttle_reasons.*` before); the
 * start-up probe keeps the first one the driver accepts, or drops the field.
 */
export interface FieldSpec {
  readonly key: string;
  readonly names: readonly string[];
}

export interface IdentityField extends FieldSpec {
  readonly required?: boolean;
}

export interface MetricField extends FieldSpec {
  readonly metric: MetricDef;
  readonly labels: Labels;
  readonly convert: Convert;
}

export const IDENTITY_FIELDS = {
  index: { key: 'index', names: ['index'], required: true },
  uuid: { key: 'uuid', names: ['uuid'], required: true },
  count: { key: 'count', names: ['count'] },
  name: { key: 'name', names: ['name'] },
  pciBusId: { key: 'pci_bus_id', names: ['pci.bus_id'] },
  driverVersion: { key: 'driver_version', names: ['driver_version'] },
  vbiosVersion: { key: 'vbios_version', names: ['vbios_version'] },
  computeCap: { key: 'compute_cap', names: ['compute_cap'] },
  migMode: { key: 'mig_mode', names: ['mig.mode.current'] },
  persistenceMode: { key: 'persistence_mode', names: ['persistence_mode'] },
} as const satisfies Record<string, IdentityField>;

function field(
  names: string | readonly string[],
  metric: MetricDef,
  convert: Convert,
  labels: Labels = {},
): MetricField {
  const list = typeof names === 'string' ? [names] : names;
  const key = `${metric.name}${JSON.stringify(labels)}`;
  return { key, names: list, metric, labels, convert };
}

const CLOCK_EVENT_REASONS = [
  'gpu_idle',
  'applications_clocks_setting',
  'sw_power_cap',
  'hw_slowdown',
  'hw_thermal_slowdown',
  'hw_power_brake_slowdown',
  'sw_thermal_slowdown',
  'sync_boost',
] as const;

const CLOCK_EVENT_COUNTERS = [
  'sw_power_cap',
  'sync_boost',
  'sw_thermal_slowdown',
  'hw_thermal_slowdown',
  'hw_power_brake_slowdown',
] as const;

const ECC = (['corrected', 'uncorrected'] as const).flatMap((type) =>
  (['volatile', 'aggregate'] as const).map((scope) =>
    field(`ecc.errors.${type}.${scope}.total`, m.GPU_ECC_ERRORS, number, { type, scope }),
  ),
);

/** The curated field set: what an LLM node needs, not nvidia-smi's 200+ columns. */
export const METRIC_FIELDS: readonly MetricField[] = [
  field('utilization.gpu', m.GPU_UTILIZATION, percentToRatio),
  field('utilization.memory', m.GPU_MEMORY_BANDWIDTH_UTILIZATION, percentToRatio),
  field('memory.used', m.GPU_MEMORY_USED, mibToBytes),
  field('memory.free', m.GPU_MEMORY_FREE, mibToBytes),
  field('memory.total', m.GPU_MEMORY_TOTAL, mibToBytes),
  field('memory.reserved', m.GPU_MEMORY_RESERVED, mibToBytes),
  field('temperature.gpu', m.GPU_TEMPERATURE, number, { sensor: 'gpu' }),
  field('temperature.memory', m.GPU_TEMPERATURE, number, { sensor: 'memory' }),
  field('power.draw', m.GPU_POWER_DRAW, number),
  field('enforced.power.limit', m.GPU_POWER_LIMIT, number),
  field('fan.speed', m.GPU_FAN_SPEED, percentToRatio),
  field('pstate', m.GPU_PERFORMANCE_STATE, performanceState),
  ...(['graphics', 'sm', 'memory', 'video'] as const).map((clock) =>
    field(`clocks.current.${clock}`, m.GPU_CLOCK, mhzToHertz, { clock }),
  ),
  ...(['graphics', 'sm', 'memory'] as const).map((clock) =>
    field(`clocks.max.${clock}`, m.GPU_CLOCK_MAX, mhzToHertz, { clock }),
  ),
  ...CLOCK_EVENT_REASONS.map((reason) =>
    field(
      [`clocks_event_reasons.${reason}`, `clocks_throttle_reasons.${reason}`],
      m.GPU_CLOCK_EVENT_ACTIVE,
      activeFlag,
      { reason },
    ),
  ),
  ...CLOCK_EVENT_COUNTERS.map((reason) =>
    field(`clocks_event_reasons_counters.${reason}`, m.GPU_CLOCK_EVENT_SECONDS, usToSeconds, {
      reason,
    }),
  ),
  ...ECC,
  field('remapped_rows.correctable', m.GPU_REMAPPED_ROWS, number, { type: 'correctable' }),
  field('remapped_rows.uncorrectable', m.GPU_REMAPPED_ROWS, number, { type: 'uncorrectable' }),
  field('remapped_rows.pending', m.GPU_REMAPPED_ROWS_PENDING, yesNo),
  field('remapped_rows.failure', m.GPU_REMAPPED_ROWS_FAILURE, yesNo),
  field('retired_pages.pending', m.GPU_RETIRED_PAGES_PENDING, yesNo),
  field(['pcie.link.gen.gpucurrent', 'pcie.link.gen.current'], m.GPU_PCIE_LINK_GENERATION, number, {
    state: 'current',
  }),
  // The most this GPU reaches in its slot (NVML's "possible with this device and system"), not
  // the GPU's own maximum (gpumax): a Gen5 card in a Gen4 slot is not a degraded link.
  field('pcie.link.gen.max', m.GPU_PCIE_LINK_GENERATION, number, { state: 'max' }),
  field('pcie.link.width.current', m.GPU_PCIE_LINK_WIDTH, number, { state: 'current' }),
  field('pcie.link.width.max', m.GPU_PCIE_LINK_WIDTH, number, { state: 'max' }),
  field('gpu_recovery_action', m.GPU_RECOVERY_ACTION, recoveryAction),
];

export const ALL_FIELDS: readonly FieldSpec[] = [
  ...Object.values(IDENTITY_FIELDS),
  ...METRIC_FIELDS,
];
