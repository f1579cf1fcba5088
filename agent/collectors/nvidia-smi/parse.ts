import { IDENTITY_FIELDS, type FieldSpec, type MetricField } from './fields.js';
import { text } from './values.js';

/** The fields the driver accepted, in query order, each under the name it accepted. */
export interface FieldSelection {
  readonly columns: readonly { readonly spec: FieldSpec; readonly name: string }[];
}

export type IdentityKey = keyof typeof IDENTITY_FIELDS;

export interface GpuRow {
  readonly index: string;
  readonly uuid: string;
  readonly identity: Readonly<Partial<Record<IdentityKey, string>>>;
  readonly values: readonly { readonly field: MetricField; readonly value: number }[];
  /** Values that were neither a number nor an absent token: dropped, and counted. */
  readonly badValues: number;
}

export type GpuLine =
  | { readonly kind: 'row'; readonly row: GpuRow }
  | { readonly kind: 'driver_error'; readonly message: string }
  | {
      readonly kind: 'gpu_unavailable';
      readonly busId: string;
      readonly lost: boolean;
      readonly message: string;
    }
  | { readonly kind: 'blank' }
  | { readonly kind: 'garbage'; readonly why: string };

const DRIVER_ERRORS = [
  /couldn't communicate with the NVIDIA driver/i,
  /^NVIDIA-SMI has failed/i,
  /^Failed to initialize NVML/i,
  /^No devices were found/i,
];
const DEVICE_HANDLE =
  /^Unable to determine the device handle for GPU\s*([0-9A-Fa-f:.]+)\s*:\s*(.*)$/;

export function queryArgs(selection: FieldSelection, loopMs?: number): string[] {
  const args = [
    `--query-gpu=${selection.columns.map((c) => c.name).join(',')}`,
    '--format=csv,noheader,nounits',
  ];
  if (loopMs !== undefined) args.push(`-lms`, String(loopMs));
  return args;
}

/** Classifies one line of `--query-gpu ... --format=csv,noheader,nounits` output. */
export function parseGpuLine(line: string, selection: FieldSelection): GpuLine {
  const trimmed = line.trim();
  if (trimmed === '') return { kind: 'blank' };
  const handle = DEVICE_HANDLE.exec(trimmed);
  if (handle) {
    const message = handle[2] ?? '';
    return {
      kind: 'gpu_unavailable',
      busId: handle[1] ?? '',
      lost: /GPU is lost/i.test(message),
      message: trimmed,
    };
  }
  if (DRIVER_ERRORS.some((re) => re.test(trimmed)))
    return { kind: 'driver_error', message: trimmed };

  const cells = trimmed.split(', ');
  if (cells.length !== selection.columns.length) {
    // Guessing would put values under the wrong metrics: the whole row goes.
    return {
      kind: 'garbage',
      why: `${cells.length} columns, expected ${selection.columns.length}`,
    };
  }
  const identity: Partial<Record<IdentityKey, string>> = {};
  const values: { field: MetricField; value: number }[] = [];
  let badValues = 0;
  selection.columns.forEach(({ spec }, i) => {
    const token = (cells[i] ?? '').trim();
    if ('metric' in spec) {
      const field = spec as MetricField;
      const value = field.convert(token);
      if (value === undefined) return;
      // A value no GPU can have (a negative count, an overflow) is a lie: left out, counted.
      if (!Number.isFinite(value) || (field.metric.type === 'counter' && value < 0)) badValues++;
      else values.push({ field, value });
    } else {
      const value = text(token);
      if (value !== undefined) identity[identityKey(spec)] = value;
    }
  });
  const index = identity.index;
  const uuid = identity.uuid;
  if (index === undefined || !/^\d+$/.test(index) || uuid === undefined) {
    return { kind: 'garbage', why: 'no GPU index or UUID' };
  }
  return { kind: 'row', row: { index, uuid, identity, values, badValues } };
}

const IDENTITY_BY_SPEC = new Map<FieldSpec, IdentityKey>(
  Object.entries(IDENTITY_FIELDS).map(([k, spec]) => [spec as FieldSpec, k as IdentityKey]),
);

function identityKey(spec: FieldSpec): IdentityKey {
  const key = IDENTITY_BY_SPEC.get(spec);
  if (!key) throw new Error(`field ${spec.key} is neither identity nor metric`);
  return key;
}

/** `Field "x" is not a valid field to query.`: the name the driver rejected. */
export function parseInvalidField(output: string): string | undefined {
  return /Field "([^"]+)" is not a valid field to query/.exec(output)?.[1];
}

/** `CUDA Version        : 13.1` (nvidia-smi --version) or `CUDA Version: 12.2` (the summary). */
export function parseCudaVersion(output: string): string | undefined {
  return /CUDA Version\s*:\s*(\d+\.\d+)/.exec(output)?.[1];
}

/**
 * Groups streamed rows into samples of all GPUs. nvidia-smi prints GPUs in index order each
 * loop, so a round ends when it holds `count` rows, or when an index repeats or goes back.
 */
export class RoundAssembler {
  private rows: GpuRow[] = [];

  constructor(private readonly onRound: (rows: readonly GpuRow[]) => void) {}

  push(row: GpuRow): void {
    const last = this.rows.at(-1);
    if (last && Number(row.index) <= Number(last.index)) this.flush();
    this.rows.push(row);
    const expected = Number(this.rows[0]?.identity.count);
    if (Number.isInteger(expected) && this.rows.length >= expected) this.flush();
  }

  /** Drops a half-assembled round (the stream went down mid-round). */
  reset(): void {
    this.rows = [];
  }

  private flush(): void {
    if (this.rows.length === 0) return;
    const rows = this.rows;
    this.rows = [];
    this.onRound(rows);
  }
}

export interface ComputeApp {
  readonly uuid: string;
  readonly pid: string;
  /** Absent on Windows WDDM, where nvidia-smi prints [N/A]. */
  readonly usedBytes: number | undefined;
  readonly process: string;
}

export const COMPUTE_APPS_FIELDS = [
  'timestamp',
  'gpu_uuid',
  'pid',
  'used_gpu_memory',
  'process_name',
];

export type ComputeAppLine =
  | { readonly kind: 'app'; readonly timestamp: string; readonly app: ComputeApp }
  | { readonly kind: 'driver_error'; readonly message: string }
  | { readonly kind: 'blank' }
  | { readonly kind: 'garbage'; readonly why: string };

/**
 * One line of `--query-compute-apps=timestamp,gpu_uuid,pid,used_gpu_memory,process_name`.
 * The process name comes last because it may itself hold ", ".
 */
export function parseComputeAppLine(line: string): ComputeAppLine {
  const trimmed = line.trim();
  if (trimmed === '') return { kind: 'blank' };
  if (DRIVER_ERRORS.some((re) => re.test(trimmed)) || DEVICE_HANDLE.test(trimmed)) {
    return { kind: 'driver_error', message: trimmed };
  }
  const cells = trimmed.split(', ');
  if (cells.length < 5) return { kind: 'garbage', why: `${cells.length} columns, expected 5` };
  const [timestamp = '', uuid = '', pid = '', memory = ''] = cells;
  const processPath = cells.slice(4).join(', ');
  if (!/^\d+$/.test(pid) || !uuid.startsWith('GPU-')) {
    // [Insufficient Permissions] under MIG in restricted containers, or garbage.
    return { kind: 'garbage', why: 'no PID or GPU UUID' };
  }
  const mib = /^(\d+)(?: MiB)?$/.exec(memory);
  return {
    kind: 'app',
    timestamp,
    app: {
      uuid,
      pid,
      usedBytes: mib ? Number(mib[1]) * 1024 * 1024 : undefined,
      process: processBaseName(processPath),
    },
  };
}

/** `/usr/bin/python3` and `C:\\Python\\python.exe` become `python3` and `python.exe`: bounded and free of user paths. */
export function processBaseName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base === '' ? path : base;
}
