import { describe, expect, it } from 'vitest';
import { arbitrate } from '../../agent/collectors/gpu/arbitrate.js';
import { EnergyLedger } from '../../agent/collectors/gpu/energy-ledger.js';
import { Durable } from '../../agent/core/durable.js';
import { gauge } from '../../agent/core/metric.js';
import { GpuFacts } from '../../agent/shared/gpu-facts.js';
import * as gpus from '../../agent/shared/gpu-metrics.js';
import { ENERGY_SPENT, type GpuReader, type GpuReport } from '../../agent/shared/gpu-report.js';
import { newGpuView, sighting } from '../helpers/gpu-view.js';
import { Recorder } from '../helpers/recorder.js';

const SM_ACTIVE = gauge('test_sm_active_ratio', 'Only DCGM reads it.', [
  'gpu',
  'uuid',
  'gpu_model',
]);
const fig = (metric: typeof SM_ACTIVE, value: number, labels = {}) => ({ metric, labels, value });

const A = 'GPU-a';
const B = 'GPU-b';
const smi = (...gpus_: ReturnType<typeof sighting>[]): GpuReport => ({
  reader: 'nvidia_smi',
  gpus: gpus_,
});
const dcgm = (...gpus_: ReturnType<typeof sighting>[]): GpuReport => ({
  reader: 'dcgm',
  gpus: gpus_,
  xids: [],
});
const kernel: GpuReport = { reader: 'kernel_log', gpus: [], xids: [] };

/** Who speaks for each family of each GPU, as `uuid family reader`. */
function speakers(reports: GpuReport[]): string[] {
  return arbitrate(reports)
    .gpus.flatMap((g) => [...g.speakers].map(([def, by]) => `${g.uuid} ${def.name} ${by}`))
    .sort();
}

describe('arbitrate: who speaks for each GPU and family', () => {
  const smiA = sighting(A, {
    figures: [fig(gpus.GPU_MEMORY_USED, 1), fig(gpus.GPU_TEMPERATURE, 40, { sensor: 'gpu' })],
    energyJoules: 10,
  });
  const dcgmA = sighting(A, {
    figures: [
      fig(gpus.GPU_MEMORY_USED, 2),
      fig(gpus.GPU_TEMPERATURE, 41, { sensor: 'gpu' }),
      fig(gpus.GPU_TEMPERATURE, 45, { sensor: 'memory' }),
      fig(gpus.GPU_MEMORY_TOTAL, 80),
      fig(SM_ACTIVE, 0.5),
    ],
    energyJoules: 5_000_000,
  });
  const dcgmB = sighting(B, { figures: [fig(gpus.GPU_MEMORY_USED, 3)], energyJoules: 7 });

  it.each<[string, GpuReport[], string[]]>([
    [
      'both read a GPU: nvidia-smi for what it reads, DCGM for the rest',
      [dcgm(dcgmA), smi(smiA)],
      [
        `${A} inferwatch_gpu_memory_used_bytes nvidia_smi`,
        `${A} inferwatch_gpu_temperature_celsius nvidia_smi`,
        `${A} inferwatch_gpu_memory_total_bytes dcgm`,
        `${A} test_sm_active_ratio dcgm`,
      ],
    ],
    [
      'nvidia-smi did not report (down, cut off): DCGM speaks for everything',
      [dcgm(dcgmA)],
      [
        `${A} inferwatch_gpu_memory_used_bytes dcgm`,
        `${A} inferwatch_gpu_temperature_celsius dcgm`,
        `${A} inferwatch_gpu_memory_total_bytes dcgm`,
        `${A} test_sm_active_ratio dcgm`,
      ],
    ],
    [
      "a GPU only DCGM lists is DCGM's",
      [smi(smiA), dcgm(dcgmB)],
      [
        `${A} inferwatch_gpu_memory_used_bytes nvidia_smi`,
        `${A} inferwatch_gpu_temperature_celsius nvidia_smi`,
        `${B} inferwatch_gpu_memory_used_bytes dcgm`,
      ],
    ],
    ['no reader of GPUs: no GPU', [kernel], []],
  ])('%s', (_, reports, expected) => {
    expect(speakers(reports)).toEqual([...expected].sort());
  });

  it('serves a family whole from its speaker: no series of it from the other reader', () => {
    const [a] = arbitrate([dcgm(dcgmA), smi(smiA)]).gpus;
    expect(a?.figures.filter((f) => f.metric === gpus.GPU_TEMPERATURE)).toEqual([
      fig(gpus.GPU_TEMPERATURE, 40, { sensor: 'gpu' }),
    ]);
    expect(a?.named.by).toBe('nvidia_smi');
  });

  it.each<[string, GpuReport[], GpuReader | undefined, GpuReader | undefined]>([
    [
      'energy from DCGM, Xids from the kernel log',
      [smi(smiA), dcgm(dcgmA), kernel],
      'dcgm',
      'kernel_log',
    ],
    ['no kernel log: Xids from DCGM', [smi(smiA), dcgm(dcgmA)], 'dcgm', 'dcgm'],
    ['nvidia-smi alone: its integral, and no Xid reader', [smi(smiA)], 'nvidia_smi', undefined],
  ])('%s', (_, reports, energy, xids) => {
    const verdict = arbitrate(reports);
    expect(verdict.gpus[0]?.energySpeaker).toBe(energy);
    expect(verdict.xidSpeaker).toBe(xids);
  });
});

describe('EnergyLedger', () => {
  it('follows DCGM while it reports, the integral otherwise, and never falls or jumps', () => {
    const ledger = new EnergyLedger();
    const at = (integral: number, dcgmJ?: number) => {
      const joules = new Map<GpuReader, number>([['nvidia_smi', integral]]);
      if (dcgmJ !== undefined) joules.set('dcgm', dcgmJ);
      ledger.advance('g', joules, dcgmJ !== undefined ? 'dcgm' : 'nvidia_smi');
    };
    at(0);
    at(10);
    expect(ledger.total('g')).toBe(10);
    at(10, 5_000_000); // since boot: a baseline, not an increment
    expect(ledger.total('g')).toBe(10);
    at(30, 5_000_025); // DCGM speaks now
    expect(ledger.total('g')).toBe(35);
    at(38); // DCGM gone
    expect(ledger.total('g')).toBe(43);
    at(38, 100); // the driver reloaded while DCGM was away: a new baseline
    at(38, 104);
    expect(ledger.total('g')).toBe(47);
    expect(ledger.total('other')).toBeUndefined();
    expect(ledger.sum()).toBe(47);
  });
});

describe('GpuView', () => {
  const merge = (view: ReturnType<typeof newGpuView>, reports: GpuReport[]) => {
    const out = new Recorder();
    view.merge(reports, out);
    return out;
  };
  const xidsOf = (out: Recorder) =>
    out.samples
      .filter((s) => s.def === gpus.GPU_XID_ERRORS && s.value > 0)
      .map((s) => `${s.labels.uuid} ${s.labels.xid} ${s.value}`);

  it("counts a reader's Xid events by their rise, only while it speaks, and all of a count that fell", () => {
    const view = newGpuView();
    const named = smi(sighting(A, { index: '0', pciBusId: '0000:01:00' }));
    const kernelSaw = (events: number): GpuReport => ({
      reader: 'kernel_log',
      gpus: [],
      xids: [{ pciBusId: '0000:01:00', uuid: '', xid: 79, events }],
    });
    const dcgmSaw = (events: number): GpuReport => ({
      reader: 'dcgm',
      gpus: [],
      xids: [{ pciBusId: '', uuid: A, xid: 79, events }],
    });
    expect(xidsOf(merge(view, [named, kernelSaw(1), dcgmSaw(1)]))).toEqual([`${A} 79 1`]);
    // The same report again (a scrape lost nothing, counted nothing twice).
    expect(xidsOf(merge(view, [named, kernelSaw(1), dcgmSaw(1)]))).toEqual([`${A} 79 1`]);
    // The kernel log cannot be read: DCGM's rise since its last count speaks.
    expect(xidsOf(merge(view, [named, dcgmSaw(3)]))).toEqual([`${A} 79 3`]);
    // The kernel log again: its rise since its own last count (one new event).
    expect(xidsOf(merge(view, [named, kernelSaw(2), dcgmSaw(4)]))).toEqual([`${A} 79 4`]);
    // A count that fell is a reader counting from 0 again: all of it is new.
    expect(xidsOf(merge(view, [named, kernelSaw(1), dcgmSaw(4)]))).toEqual([`${A} 79 5`]);
  });

  it('with no reader of Xids, writes no Xid series; with one, the paged codes at 0 for every GPU', () => {
    const view = newGpuView();
    const named = smi(sighting(A, { pciBusId: '0000:01:00' }));
    expect(merge(view, [named]).samples.some((s) => s.def === gpus.GPU_XID_ERRORS)).toBe(false);
    const zeros = merge(view, [named, kernel]).samples.filter((s) => s.def === gpus.GPU_XID_ERRORS);
    expect(zeros).toHaveLength(gpus.PAGED_XIDS.length);
    expect(zeros.every((s) => s.value === 0 && s.labels.uuid === A)).toBe(true);
  });

  it('reports the energy it counted to the cost, and the drivers it saw; keeps its counters through a reload', () => {
    const durable = new Durable();
    const drivers = new GpuFacts();
    const view = newGpuView(durable, drivers);
    const at = (joules: number) =>
      smi(sighting(A, { energyJoules: joules, info: { driver_version: '590.48.01' } }));
    merge(view, [at(0)]);
    const out = merge(view, [at(100)]);
    expect(out.reported(ENERGY_SPENT)).toEqual([{ joules: 100 }]);
    expect(
      out.value(gpus.GPU_ENERGY, { gpu: '0', uuid: A, gpu_model: 'NVIDIA H100 80GB HBM3' }),
    ).toBe(100);
    expect(drivers.driverVersions()).toEqual(['590.48.01']);
    // Built again on reload, from the same durable ledgers: the counter goes on.
    const reloaded = newGpuView(durable, drivers);
    expect(merge(reloaded, [at(150)]).reported(ENERGY_SPENT)).toEqual([{ joules: 150 }]);
  });

  it('says who speaks for which GPU, and who for Xids', () => {
    const view = newGpuView();
    merge(view, [smi(sighting(A, { index: '0' })), dcgm(sighting(B, { index: '1' })), kernel]);
    const status = view.status();
    expect(status).toMatchObject({
      state: 'ok',
      detail:
        '2 GPU(s): nvidia-smi speaks for 0; DCGM speaks for 1; Xid errors from the kernel log',
    });
    // One line per GPU, for doctor and the status page, with the reader that names it.
    expect(status.lines).toHaveLength(2);
    expect(status.lines?.[0]).toMatch(/^GPU 0: .+ \(nvidia-smi\)$/);
    expect(status.lines?.[1]).toMatch(/^GPU 1: .+ \(DCGM\)$/);
    // Before the first merge it is starting; a merge with no GPU in it is missing.
    const empty = newGpuView();
    expect(empty.status().state).toBe('starting');
    merge(empty, []);
    expect(empty.status().state).toBe('missing');
  });
});
