import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_FIELDS } from '../../agent/collectors/nvidia-smi/fields.js';
import * as m from '../../agent/shared/gpu-metrics.js';
import {
  parseComputeAppLine,
  parseCudaVersion,
  parseGpuLine,
  parseInvalidField,
  RoundAssembler,
  type FieldSelection,
  type GpuRow,
} from '../../agent/collectors/nvidia-smi/parse.js';
import { project, readCapture } from '../../demo/fake/capture.js';
import { fixturesMatching, readFixture } from '../helpers/fixtures.js';

/** The selection the start-up probe would settle on for a capture's driver. */
function selectionFor(fields: readonly string[]): FieldSelection {
  const columns = ALL_FIELDS.flatMap((spec) => {
    const name = spec.names.find((n) => fields.includes(n));
    return name ? [{ spec, name }] : [];
  });
  return { columns };
}

function rowFrom(path: string, units = false): GpuRow {
  const capture = readCapture(path);
  const selection = selectionFor(capture.fields);
  const projected = project(
    capture,
    capture.rows[0] ?? [],
    selection.columns.map((c) => c.name),
    {},
    units,
  );
  if (!('line' in projected)) throw new Error(`capture lacks ${projected.missing}`);
  const parsed = parseGpuLine(projected.line, selection);
  if (parsed.kind !== 'row') throw new Error(`not a row: ${JSON.stringify(parsed)}`);
  return parsed.row;
}

function value(
  row: GpuRow,
  metric: string,
  labels: Record<string, string> = {},
): number | undefined {
  return row.values.find(
    (v) =>
      v.field.metric.name === metric &&
      Object.entries(labels).every(([k, l]) => v.field.labels[k] === l),
  )?.value;
}

const CAPTURES = fixturesMatching('nvidia-smi', /query-gpu_csv/);

describe('parseGpuLine on real captures', () => {
  it.each(CAPTURES.map((p) => [basename(p), p]))('%s parses with no bad values', (_, path) => {
    for (const units of [false, true]) {
      const row = rowFrom(path, units);
      expect(row.badValues).toBe(0);
      expect(row.index).toBe('0');
      expect(row.uuid).toMatch(/^GPU-/);
      expect(value(row, m.GPU_MEMORY_TOTAL.name)).toBeGreaterThan(0);
    }
  });

  it('H100 under load: every family the capture has, in base units', () => {
    const row = rowFrom(CAPTURES.find((p) => p.includes('h100-80gb-hbm3'))!);
    expect(row.identity).toMatchObject({
      name: 'NVIDIA H100 80GB HBM3',
      driverVersion: '590.48.01',
      pciBusId: '00000000:00:09.0',
      computeCap: '9.0',
      migMode: 'Disabled',
      persistenceMode: 'Enabled',
      count: '1',
    });
    expect(value(row, m.GPU_UTILIZATION.name)).toBe(1);
    expect(value(row, m.GPU_MEMORY_BANDWIDTH_UTILIZATION.name)).toBeCloseTo(0.11);
    expect(value(row, m.GPU_MEMORY_USED.name)).toBe(19818 * 1048576);
    expect(value(row, m.GPU_MEMORY_RESERVED.name)).toBe(479 * 1048576);
    expect(value(row, m.GPU_TEMPERATURE.name, { sensor: 'memory' })).toBe(54);
    expect(value(row, m.GPU_POWER_DRAW.name)).toBe(631.95);
    expect(value(row, m.GPU_POWER_LIMIT.name)).toBe(700);
    expect(value(row, m.GPU_CLOCK.name, { clock: 'sm' })).toBe(1980e6);
    expect(value(row, m.GPU_CLOCK_EVENT_ACTIVE.name, { reason: 'sw_power_cap' })).toBe(0);
    expect(value(row, m.GPU_ECC_ERRORS.name, { type: 'uncorrected', scope: 'volatile' })).toBe(0);
    expect(value(row, m.GPU_REMAPPED_ROWS_PENDING.name)).toBe(0);
    expect(value(row, m.GPU_PCIE_LINK_GENERATION.name, { state: 'current' })).toBe(5);
    expect(value(row, m.GPU_PERFORMANCE_STATE.name)).toBe(0);
    // [N/A] on this card: no series, not a zero.
    expect(value(row, m.GPU_FAN_SPEED.name)).toBeUndefined();
    expect(value(row, m.GPU_RETIRED_PAGES_PENDING.name)).toBeUndefined();
  });

  it('MIG enabled: utilization and row remapping are absent, not 0', () => {
    const row = rowFrom(CAPTURES.find((p) => p.includes('h100-mig-enabled'))!);
    expect(row.identity.migMode).toBe('Enabled');
    expect(value(row, m.GPU_UTILIZATION.name)).toBeUndefined();
    expect(value(row, m.GPU_MEMORY_BANDWIDTH_UTILIZATION.name)).toBeUndefined();
    expect(value(row, m.GPU_REMAPPED_ROWS.name, { type: 'correctable' })).toBeUndefined();
    expect(value(row, m.GPU_MEMORY_USED.name)).toBe(11125 * 1048576);
  });

  it('GeForce and L40S: bare N/A memory temperature is absent; fan and throttle counters read', () => {
    const l40s = rowFrom(CAPTURES.find((p) => p.includes('l40s'))!);
    expect(value(l40s, m.GPU_TEMPERATURE.name, { sensor: 'memory' })).toBeUndefined();
    expect(value(l40s, m.GPU_CLOCK_EVENT_SECONDS.name, { reason: 'sw_power_cap' })).toBeCloseTo(
      204.642816,
    );
    const rtx = rowFrom(CAPTURES.find((p) => p.includes('rtx-4080'))!);
    expect(value(rtx, m.GPU_FAN_SPEED.name)).toBe(0);
    expect(value(rtx, m.GPU_PERFORMANCE_STATE.name)).toBe(2);
    expect(
      value(rtx, m.GPU_ECC_ERRORS.name, { type: 'corrected', scope: 'volatile' }),
    ).toBeUndefined();
  });

  it('Windows: persistence mode [N/A] leaves the label out', () => {
    const row = rowFrom(CAPTURES.find((p) => p.includes('windows'))!);
    expect(row.identity.persistenceMode).toBeUndefined();
    expect(value(row, m.GPU_FAN_SPEED.name)).toBeCloseTo(0.38);
  });

  it('rejects a row with the wrong column count instead of guessing', () => {
    const selection = selectionFor(['index', 'uuid', 'memory.used']);
    expect(parseGpuLine('0, GPU-1, 100, 5', selection)).toMatchObject({ kind: 'garbage' });
    expect(parseGpuLine('0, GPU-1', selection)).toMatchObject({ kind: 'garbage' });
    expect(parseGpuLine('x, GPU-1, 100', selection)).toMatchObject({ kind: 'garbage' });
    // Found by the fuzz test: a value no GPU can have is counted as bad, never exported.
    const ecc = selectionFor([
      'index',
      'uuid',
      'ecc.errors.uncorrected.aggregate.total',
      'power.draw',
    ]);
    const cells: Record<string, string> = {
      index: '0',
      uuid: 'GPU-1',
      'ecc.errors.uncorrected.aggregate.total': '-1',
      'power.draw': '1e309',
    };
    const line = ecc.columns.map((c) => cells[c.name]).join(', ');
    expect(parseGpuLine(line, ecc)).toMatchObject({
      kind: 'row',
      row: { values: [], badValues: 2 },
    });
    expect(parseGpuLine('0, GPU-1, lots', selection)).toMatchObject({
      kind: 'row',
      row: { badValues: 1 },
    });
    expect(parseGpuLine('   ', selection)).toEqual({ kind: 'blank' });
  });
});

describe('nvidia-smi failure output', () => {
  const selection = selectionFor(['index', 'uuid']);

  it('recognises the driver-not-loaded message', () => {
    const line = readFixture(
      'nvidia-smi',
      'nvidia-smi_failure_couldnt-communicate-with-driver.txt',
    ).split('\n')[1]!;
    expect(parseGpuLine(line, selection)).toMatchObject({ kind: 'driver_error' });
  });

  it('recognises a lost GPU and names its bus', () => {
    const line = readFixture('nvidia-smi', 'nvidia-smi_failure_gpu-is-lost_linux.txt').split(
      '\n',
    )[1]!;
    expect(parseGpuLine(line, selection)).toMatchObject({
      kind: 'gpu_unavailable',
      busId: '0000:03:00.0',
      lost: true,
    });
  });

  it('recognises an unreachable GPU (no space before the bus id)', () => {
    const line = readFixture(
      'nvidia-smi',
      'nvidia-smi_failure_unable-to-determine-device-handle_unknown-error.txt',
    ).trim();
    expect(parseGpuLine(line, selection)).toMatchObject({
      kind: 'gpu_unavailable',
      busId: '0000:91:00.0',
      lost: false,
    });
  });

  it('reads the field nvidia-smi rejects and the CUDA version', () => {
    expect(
      parseInvalidField('Field "clocks_throttle_reasons.active" is not a valid field to query.\n'),
    ).toBe('clocks_throttle_reasons.active');
    expect(parseInvalidField('something else')).toBeUndefined();
    expect(
      parseCudaVersion(readFixture('nvidia-smi', 'nvidia-smi_version_h100_drv590.48.01.txt')),
    ).toBe('13.1');
    expect(
      parseCudaVersion('| NVIDIA-SMI 535.54.03   Driver Version: 535.54.03   CUDA Version: 12.2 |'),
    ).toBe('12.2');
  });
});

describe('RoundAssembler', () => {
  const row = (index: string, count?: string): GpuRow => ({
    index,
    uuid: `GPU-${index}`,
    identity: count ? { count } : {},
    values: [],
    badValues: 0,
  });

  it('ends a round as soon as it holds `count` GPUs', () => {
    const rounds: string[][] = [];
    const a = new RoundAssembler((rows) => rounds.push(rows.map((r) => r.index)));
    a.push(row('0', '2'));
    expect(rounds).toEqual([]);
    a.push(row('1', '2'));
    expect(rounds).toEqual([['0', '1']]);
  });

  it('without a count, ends a round when the index goes back', () => {
    const rounds: string[][] = [];
    const a = new RoundAssembler((rows) => rounds.push(rows.map((r) => r.index)));
    for (const i of ['0', '1', '2', '0', '1']) a.push(row(i));
    expect(rounds).toEqual([['0', '1', '2']]);
  });

  it('a lost GPU (count says 3, only 2 print) still yields rounds, one loop late', () => {
    const rounds: string[][] = [];
    const a = new RoundAssembler((rows) => rounds.push(rows.map((r) => r.index)));
    for (const i of ['0', '2', '0', '2', '0']) a.push(row(i, '3'));
    expect(rounds).toEqual([
      ['0', '2'],
      ['0', '2'],
    ]);
  });

  it('reset drops a half-built round', () => {
    const rounds: string[][] = [];
    const a = new RoundAssembler((rows) => rounds.push(rows.map((r) => r.index)));
    a.push(row('0', '2'));
    a.reset();
    a.push(row('1', '2'));
    a.push(row('0', '2'));
    expect(rounds).toEqual([['1']]);
  });
});

describe('parseComputeAppLine on real captures', () => {
  const FIELDS = ['timestamp', 'gpu_uuid', 'pid', 'used_gpu_memory', 'process_name'];

  it.each([
    ['h200', 'nvidia-smi_query-compute-apps_csv_h200_drv590.48.01_load.csv'],
    ['windows', 'nvidia-smi_query-compute-apps_csv_windows-rtx-2080-super_drv591.86_load.csv'],
  ])('%s', (kind, file) => {
    const capture = readCapture(
      `${fixturesMatching('nvidia-smi', new RegExp(file.replace(/\./g, '\\.')))[0]}`,
    );
    const apps = capture.rows.map((row) => {
      const projected = project(capture, row, FIELDS);
      if (!('line' in projected)) throw new Error('missing field');
      return parseComputeAppLine(projected.line);
    });
    expect(apps.every((a) => a.kind === 'app')).toBe(true);
    const first = apps[0];
    if (first?.kind !== 'app') throw new Error('no app');
    if (kind === 'h200') {
      expect(first.app).toEqual({
        uuid: 'GPU-00000000-0000-0000-0000-000000000000',
        pid: '10291',
        usedBytes: 2566 * 1048576,
        process: 'memhog',
      });
    } else {
      // WDDM: no per-process memory; the Windows path is cut to the program's name.
      expect(first.app.usedBytes).toBeUndefined();
      expect(first.app.process).toBe('TextInputHost.exe');
    }
  });

  it('keeps a process name that holds ", " whole', () => {
    const parsed = parseComputeAppLine('2026/07/03 22:11:09.916, GPU-1, 42, 100, /opt/my, odd/app');
    expect(parsed).toMatchObject({ kind: 'app', app: { pid: '42', process: 'app' } });
  });

  it('skips rows without a PID (restricted containers under MIG)', () => {
    expect(parseComputeAppLine('t, GPU-1, [Insufficient Permissions], 100, python3')).toMatchObject(
      {
        kind: 'garbage',
      },
    );
  });
});
