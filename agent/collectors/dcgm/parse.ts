import { CollectorError } from '../../core/collector.js';
import { parseExposition, type ParsedSample } from '../../core/prom-text.js';
import { normalizeBusId } from '../../shared/bus-id.js';
import {
  DCGM_FIELDS,
  ENERGY_FIELD,
  XID_LAST_FIELD,
  XID_WINDOW_FIELD,
  type DcgmField,
} from './fields.js';

/** One MIG GPU instance as dcgm-exporter reported it (its GPU_I_ID rows). */
export interface MigInstance {
  /** GPU_I_ID: the NVML GPU instance id, unique within its GPU. */
  readonly id: string;
  /** GPU_I_PROFILE, such as 1g.10gb. */
  readonly profile: string;
  /** The fields DCGM measures per instance (activity, memory), in base units. */
  readonly values: ReadonlyMap<DcgmField, number>;
}

/** One GPU as dcgm-exporter reported it. */
export interface DcgmGpu {
  readonly uuid: string;
  /** DCGM's GPU id (the `gpu` label), which is normally nvidia-smi's index. */
  readonly gpu: string;
  readonly model: string;
  /** Normalized like the inventory's: `0000:91:00`. Absent before dcgm-exporter 3.3.6. */
  readonly pciBusId: string | undefined;
  readonly driverVersion: string | undefined;
  readonly values: ReadonlyMap<DcgmField, number>;
  readonly energyJoules: number | undefined;
  /** DCGM_EXP_XID_ERRORS_COUNT: Xids by code within the exporter's window (it falls as they age). */
  readonly xidWindow: ReadonlyMap<number, number>;
  /** DCGM_FI_DEV_XID_ERRORS: the code of the last Xid, 0 before any. */
  readonly lastXid: number | undefined;
  /** Its MIG instances, by GPU_I_ID; empty when MIG is off. */
  readonly migInstances: ReadonlyMap<string, MigInstance>;
}

export interface DcgmReading {
  readonly gpus: ReadonlyMap<string, DcgmGpu>;
  /** Samples mapped onto an inferwatch family. */
  readonly mapped: number;
  /** Samples left out, and why. */
  readonly skipped: {
    /** DCGM's "no value" sentinels, which older exporters print as numbers. */
    readonly blank: number;
    /** A field reported twice for one GPU with different values (per-pod series, say). */
    readonly conflicting: number;
    readonly badLines: number;
  };
}

const BY_NAME = new Map(DCGM_FIELDS.map((f) => [f.name, f]));
const INT32_BLANK_FROM = 0x7ffffff0;
const INT32_MAX = 0x7fffffff;
/** DCGM_FP64_BLANK (2^47) and every int64 blank lie at or above this. */
const WIDE_BLANK_FROM = 2 ** 47;

/** DCGM's blank values: the field has no reading (not supported, not yet sampled). */
export function isBlank(value: number): boolean {
  return (value >= INT32_BLANK_FROM && value <= INT32_MAX) || value >= WIDE_BLANK_FROM;
}

interface MutableGpu {
  uuid: string;
  gpu: string;
  model: string;
  pciBusId: string | undefined;
  driverVersion: string | undefined;
  values: Map<DcgmField, number>;
  energyJoules: number | undefined;
  xidWindow: Map<number, number>;
  lastXid: number | undefined;
  migInstances: Map<string, { id: string; profile: string; values: Map<DcgmField, number> }>;
  /** GPU-level fields read from instance rows, where dcgm-exporter repeats them per instance. */
  fromInstances: Map<DcgmField, { id: number; value: number }>;
}

/**
 * dcgm-exporter's /metrics text, grouped by GPU UUID and converted to base units. Throws a
 * CollectorError when the text holds no DCGM series at all: what answered is not dcgm-exporter.
 *
 * Under MIG, dcgm-exporter writes every field on each instance's rows (labels GPU_I_ID and
 * GPU_I_PROFILE) and none on a row of the GPU itself. What DCGM measures per instance (engine
 * activity, memory) becomes the instance's; the rest is the GPU's, repeated per instance and
 * read a moment apart: one value is kept (a gauge from the lowest instance id, a counter at
 * its highest), and a row of the GPU itself, where there is one, wins over them.
 */
export function parseDcgm(text: string): DcgmReading {
  const exposition = parseExposition(text);
  const gpus = new Map<string, MutableGpu>();
  const conflicted = new Set<string>();
  let dcgmSamples = 0;
  let blank = 0;
  let conflicting = 0;

  for (const family of exposition.families.values()) {
    if (!family.name.startsWith('DCGM_')) continue;
    for (const sample of family.samples) {
      dcgmSamples++;
      const uuid = sample.labels.UUID;
      if (!uuid) continue;
      if (isBlank(sample.value)) {
        blank++;
        continue;
      }
      const gpu = gpuFor(gpus, uuid, sample);
      const name = sample.name;
      const instanceId = sample.labels.GPU_I_ID;
      // Any row of an instance shows it exists, whichever fields the exporter was told to read.
      const instance =
        instanceId === undefined
          ? undefined
          : instanceOf(gpu, instanceId, sample.labels.GPU_I_PROFILE ?? '');
      if (name === ENERGY_FIELD) {
        const joules = sample.value / 1000;
        // Per-instance copies of the counter: the highest is the latest read.
        gpu.energyJoules = Math.max(gpu.energyJoules ?? 0, joules);
      } else if (name === XID_WINDOW_FIELD) {
        const xid = Number(sample.labels.xid);
        if (Number.isInteger(xid))
          gpu.xidWindow.set(xid, Math.max(gpu.xidWindow.get(xid) ?? 0, sample.value));
      } else if (name === XID_LAST_FIELD) {
        gpu.lastXid = sample.value;
      } else {
        const field = BY_NAME.get(name);
        if (!field) continue;
        const value = field.convert(sample.value);
        if (instance && field.mig) {
          instance.values.set(field, value);
        } else if (instance) {
          fromInstance(gpu, field, Number(instance.id), value);
        } else {
          const key = `${uuid}\u0000${name}`;
          if (conflicted.has(key)) continue;
          const before = gpu.values.get(field);
          if (before !== undefined && before !== value) {
            // Two readings of one field for one GPU: neither can be told right, so neither is used.
            gpu.values.delete(field);
            conflicted.add(key);
            conflicting++;
            continue;
          }
          gpu.values.set(field, value);
        }
      }
    }
  }
  for (const gpu of gpus.values()) {
    for (const [field, { value }] of gpu.fromInstances)
      if (!gpu.values.has(field) && !conflicted.has(`${gpu.uuid}\u0000${field.name}`))
        gpu.values.set(field, value);
    deriveMemoryTotal(gpu.values);
    for (const instance of gpu.migInstances.values()) deriveMemoryTotal(instance.values);
  }
  if (dcgmSamples === 0) {
    throw new CollectorError(
      'garbage',
      exposition.sampleCount === 0
        ? `no metrics in the answer${exposition.firstProblem ? ` (${exposition.firstProblem})` : ''}`
        : 'the answer has no DCGM_* series: this is not dcgm-exporter',
    );
  }
  let mapped = 0;
  for (const gpu of gpus.values()) {
    mapped += gpu.values.size;
    for (const instance of gpu.migInstances.values()) mapped += instance.values.size;
  }
  return { gpus, mapped, skipped: { blank, conflicting, badLines: exposition.badLines } };
}

function instanceOf(gpu: MutableGpu, id: string, profile: string) {
  let instance = gpu.migInstances.get(id);
  if (!instance) gpu.migInstances.set(id, (instance = { id, profile, values: new Map() }));
  return instance;
}

/** A GPU-level field on an instance's row: a gauge from the lowest instance, a counter's highest. */
function fromInstance(gpu: MutableGpu, field: DcgmField, id: number, value: number): void {
  const before = gpu.fromInstances.get(field);
  const keep =
    before === undefined ||
    (field.metric.type === 'counter' ? value > before.value : id < before.id);
  if (keep) gpu.fromInstances.set(field, { id, value });
}

const FB_TOTAL = BY_NAME.get('DCGM_FI_DEV_FB_TOTAL')!;
const FB_PARTS = ['DCGM_FI_DEV_FB_USED', 'DCGM_FI_DEV_FB_FREE', 'DCGM_FI_DEV_FB_RESERVED'].map(
  (name) => BY_NAME.get(name)!,
);

/** Exporters without FB_TOTAL: nvidia-smi's memory.total is used + free + reserved. */
function deriveMemoryTotal(values: Map<DcgmField, number>): void {
  if (values.has(FB_TOTAL)) return;
  let total = 0;
  for (const part of FB_PARTS) {
    const value = values.get(part);
    if (value === undefined) return;
    total += value;
  }
  values.set(FB_TOTAL, total);
}

function gpuFor(gpus: Map<string, MutableGpu>, uuid: string, sample: ParsedSample): MutableGpu {
  let gpu = gpus.get(uuid);
  if (!gpu) {
    const labels = sample.labels;
    gpu = {
      uuid,
      gpu: labels.gpu ?? '',
      model: labels.modelName ?? '',
      pciBusId: labels.pci_bus_id ? normalizeBusId(labels.pci_bus_id) : undefined,
      driverVersion: labels.DCGM_FI_DRIVER_VERSION,
      values: new Map(),
      energyJoules: undefined,
      xidWindow: new Map(),
      lastXid: undefined,
      migInstances: new Map(),
      fromInstances: new Map(),
    };
    gpus.set(uuid, gpu);
  }
  return gpu;
}
