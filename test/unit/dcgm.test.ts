import { describe, expect, it } from 'vitest';
import { DcgmCollector } from '../../agent/collectors/dcgm/collector.js';
import * as dm from '../../agent/collectors/dcgm/metrics.js';
import { isBlank, parseDcgm } from '../../agent/collectors/dcgm/parse.js';
import { DcgmXidEvents } from '../../agent/collectors/dcgm/xid-events.js';
import * as smi from '../../agent/shared/gpu-metrics.js';
import { GPU_XID_ERRORS } from '../../agent/shared/gpu-metrics.js';
import type { GpuReport } from '../../agent/shared/gpu-report.js';
import { CollectorError } from '../../agent/core/collector.js';
import { HttpError, type HttpClient } from '../../agent/core/http.js';
import { createLogger } from '../../agent/core/logger.js';
import { collectorDeps } from '../helpers/collector-deps.js';
import { readFixture } from '../helpers/fixtures.js';
import { newGpuView, sighting, throughView } from '../helpers/gpu-view.js';
import type { Recorder } from '../helpers/recorder.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const T4 = readFixture('dcgm', 'dcgm-exporter_metrics_tesla-t4_drv460_datadog-fixture_partial.txt');
const V100 = readFixture('dcgm', 'dcgm-exporter_metrics_v100x4_partial.txt');
const H100 = readFixture('dcgm', 'dcgm-exporter_metrics_constructed_h100x3.txt');
const A30_MIG_4X = readFixture(
  'dcgm',
  'dcgm-exporter_metrics_4.x_a30-mig-and-rtx2000_pr736_partial.txt',
);
const A30_MIG_3X = readFixture(
  'dcgm',
  'dcgm-exporter_metrics_3.x_a30x2-mig-4-instances_issue317_partial.txt',
);
const A100_MIG = readFixture(
  'dcgm',
  'dcgm-exporter_metrics_a100-80gb-mig-1g.10gb_dra-driver-issue166_partial.txt',
);
const SMI_GPU0 = 'GPU-00000000-1111-2222-3333-000000000000';
const SMI_GPU1 = 'GPU-00000001-1111-2222-3333-000000000001';
const DCGM_ONLY_GPU = 'GPU-7e1c2f3a-5b4d-4c6e-8f90-a1b2c3d4e5f6';
const MIB = 1024 * 1024;

describe('parseDcgm on real dcgm-exporter text', () => {
  it('reads the T4 capture: units converted, the energy counter in joules, the old Hostname label ignored', () => {
    const reading = parseDcgm(T4);
    expect([...reading.gpus.keys()]).toEqual(['GPU-20c56d28-0da5-6d26-a36a-e7af1ce2586e']);
    const gpu = reading.gpus.get('GPU-20c56d28-0da5-6d26-a36a-e7af1ce2586e')!;
    expect(gpu).toMatchObject({
      gpu: '0',
      model: 'Tesla T4',
      driverVersion: '460.106.00',
      pciBusId: undefined,
      energyJoules: 128996.013,
      lastXid: 0,
    });
    const byName = new Map([...gpu.values].map(([f, v]) => [f.name, v]));
    expect(byName.get('DCGM_FI_DEV_SM_CLOCK')).toBe(300e6);
    expect(byName.get('DCGM_FI_DEV_GPU_TEMP')).toBe(25);
    expect(byName.get('DCGM_FI_DEV_POWER_USAGE')).toBe(8.969);
    expect(byName.get('DCGM_FI_DEV_FB_FREE')).toBe(15109 * MIB);
    expect(byName.get('DCGM_FI_DEV_GPU_UTIL')).toBe(0);
    expect(byName.get('DCGM_FI_DEV_PCIE_REPLAY_COUNTER')).toBe(0);
    // Fields with no inferwatch family (encoder, vGPU licence, DEV_COUNT) are not mapped.
    expect(byName.has('DCGM_FI_DEV_ENC_UTIL')).toBe(false);
    expect(reading.skipped).toEqual({ blank: 0, conflicting: 0, badLines: 0 });
  });

  it('reads the V100 fragment, which starts mid-family without HELP or TYPE', () => {
    const reading = parseDcgm(V100);
    expect(reading.gpus.size).toBe(4);
    const gpu2 = reading.gpus.get('GPU-a9079f15-493e-6c1c-c78c-73ec2b840cba')!;
    expect(gpu2.model).toBe('Tesla V100-SXM2-32GB');
    expect(reading.mapped).toBeGreaterThan(0);
  });

  it('leaves out DCGM blanks, keeps a MIG instance row apart from its GPU, and reads profiling, NVLink and violation fields', () => {
    const reading = parseDcgm(H100);
    expect(reading.skipped).toMatchObject({ blank: 1 });
    const gpu = reading.gpus.get(DCGM_ONLY_GPU)!;
    const instance = gpu.migInstances.get('9')!;
    expect(instance.profile).toBe('1g.10gb');
    expect(new Map([...instance.values].map(([f, v]) => [f.name, v]))).toEqual(
      new Map([['DCGM_FI_PROF_GR_ENGINE_ACTIVE', 0.123456]]),
    );
    const byName = new Map([...gpu.values].map(([f, v]) => [f.name, v]));
    expect(byName.has('DCGM_FI_DEV_MEMORY_TEMP')).toBe(false);
    expect(byName.get('DCGM_FI_PROF_GR_ENGINE_ACTIVE')).toBe(0.998765);
    expect(byName.get('DCGM_FI_DEV_POWER_VIOLATION')).toBe(184);
    expect(byName.get('DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL')).toBe(7);
    expect(gpu.pciBusId).toBe('0000:9b:00');
    expect(gpu.xidWindow).toEqual(new Map([[13, 1]]));
  });

  it('drops a field reported twice for one GPU with different values, and keeps identical copies', () => {
    const line = (value: number, pod: string) =>
      `DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-x",modelName="m",pod="${pod}"} ${value}`;
    const twice = parseDcgm([line(10, 'a'), line(10, 'b')].join('\n'));
    expect(twice.gpus.get('GPU-x')!.values.size).toBe(1);
    const conflicting = parseDcgm([line(10, 'a'), line(20, 'b'), line(30, 'c')].join('\n'));
    expect(conflicting.gpus.get('GPU-x')!.values.size).toBe(0);
    expect(conflicting.skipped.conflicting).toBe(1);
    expect(conflicting.mapped).toBe(0);
  });

  it('says what is wrong with an answer that is not dcgm-exporter', () => {
    expect(() => parseDcgm('<html>nginx</html>')).toThrow(CollectorError);
    expect(() => parseDcgm('node_load1 0.5\n')).toThrow(/no DCGM_\* series/);
  });

  it('knows the blank sentinels of DCGM', () => {
    expect(isBlank(Number('9223372036854775794'))).toBe(true);
    expect(isBlank(140737488355328)).toBe(true);
    expect(isBlank(2147483632)).toBe(true);
    expect(isBlank(2147483648)).toBe(false);
    expect(isBlank(128996013)).toBe(false);
  });
});

describe('parseDcgm on MIG GPUs (real dcgm-exporter 3.x and 4.x captures)', () => {
  const A30_0 = 'GPU-265c9814-6156-355b-e589-ff2064894f16';
  const A30_1 = 'GPU-2d20791a-b4a6-ba59-97f1-e95b99fe5b49';
  const byName = (values: ReadonlyMap<{ name: string }, number>) =>
    new Map([...values].map(([f, v]) => [f.name, v]));

  it('keeps a MIG GPU: GPU-level fields are read once from its instance rows (gauges from the lowest instance)', () => {
    const reading = parseDcgm(A30_MIG_3X);
    expect([...reading.gpus.keys()].sort()).toEqual([A30_0, A30_1].sort());
    const gpu0 = reading.gpus.get(A30_0)!;
    const values = byName(gpu0.values);
    // Instances 3 and 4 read 52.636 W, 5 and 6 read 52.746 W a moment later: one value, not four.
    expect(values.get('DCGM_FI_DEV_POWER_USAGE')).toBe(52.636);
    expect(values.get('DCGM_FI_DEV_GPU_TEMP')).toBe(35);
    expect(byName(reading.gpus.get(A30_1)!.values).get('DCGM_FI_DEV_POWER_USAGE')).toBe(56.121);
    expect([...gpu0.migInstances.keys()]).toEqual(['3', '4', '5', '6']);
    expect(gpu0.migInstances.get('5')!.profile).toBe('1g.6gb');
    // Repeated values on instance rows are not two readings of one field.
    expect(reading.skipped).toEqual({ blank: 0, conflicting: 0, badLines: 0 });
  });

  it('reads instance memory and engine activity per instance, and the GPU-level fields of a MIG GPU beside a GPU without MIG (4.x)', () => {
    const reading = parseDcgm(A30_MIG_4X);
    const ada = reading.gpus.get('GPU-fc60126e-514d-3522-2828-c5daa8e99d85')!;
    expect(ada.migInstances.size).toBe(0);
    expect(byName(ada.values).get('DCGM_FI_DEV_FB_FREE')).toBe(11275 * MIB);
    const a30 = reading.gpus.get('GPU-63bc0b91-2265-1b94-831c-15c41fe92675')!;
    expect(a30.pciBusId).toBe('0000:ca:00');
    expect(byName(a30.values).get('DCGM_FI_DEV_GPU_TEMP')).toBe(45);
    // An instance's memory is the instance's, not the GPU's.
    expect(byName(a30.values).has('DCGM_FI_DEV_FB_FREE')).toBe(false);
    expect(byName(a30.migInstances.get('3')!.values).get('DCGM_FI_DEV_FB_FREE')).toBe(2207 * MIB);
    const other = reading.gpus.get('GPU-9a63752e-af8d-fe52-7f0d-968bca6d52e3')!;
    expect(byName(other.migInstances.get('6')!.values).get('DCGM_FI_DEV_FB_USED')).toBe(3744 * MIB);
    expect(reading.skipped).toEqual({ blank: 0, conflicting: 0, badLines: 0 });

    const a100 = parseDcgm(A100_MIG).gpus.get('GPU-2c2f45e8-0886-e3cc-02be-a4181a13fc9b')!;
    expect(a100.driverVersion).toBe('560.35.03');
    expect(
      [...a100.migInstances.values()].map((i) => [
        i.id,
        i.profile,
        byName(i.values).get('DCGM_FI_PROF_GR_ENGINE_ACTIVE'),
      ]),
    ).toEqual([
      ['8', '1g.10gb', 0.029399],
      ['9', '1g.10gb', 0.033893],
      ['10', '1g.10gb', 0],
    ]);
  });
});

describe('DcgmXidEvents', () => {
  const gpu = (window: [number, number][], lastXid?: number) => ({
    ...parseDcgm(T4).gpus.values().next().value!,
    xidWindow: new Map(window),
    lastXid,
  });

  it('counts rises of the windowed count, not the backlog at the first reading nor events ageing out', () => {
    const events = new DcgmXidEvents();
    expect(events.events(gpu([[13, 2]]))).toEqual(new Map());
    expect(
      events.events(
        gpu([
          [13, 3],
          [79, 1],
        ]),
      ),
    ).toEqual(
      new Map([
        [13, 1],
        [79, 1],
      ]),
    );
    expect(events.events(gpu([[79, 1]]))).toEqual(new Map());
  });

  it('without the windowed count, counts a change of the last Xid as one event', () => {
    const events = new DcgmXidEvents();
    events.events(gpu([], 0));
    expect(events.events(gpu([], 0))).toEqual(new Map());
    expect(events.events(gpu([], 48))).toEqual(new Map([[48, 1]]));
    expect(events.events(gpu([], 48))).toEqual(new Map());
  });
});

function setup(options: { configured?: boolean; body?: string } = {}) {
  let answer: () => Promise<{ status: number; body: string }> = async () => ({
    status: 200,
    body: options.body ?? H100,
  });
  let calls = 0;
  const http: HttpClient = {
    get: () => {
      calls++;
      return answer();
    },
  };
  const timers = new ManualTimers(0);
  const logs: string[] = [];
  const logger = createLogger('info', { write: (l: string) => logs.push(l) });
  const view = newGpuView();
  const collector = new DcgmCollector(
    {
      url: 'http://127.0.0.1:9400/metrics',
      configured: options.configured ?? false,
      timeoutMs: 1000,
      maxBodyBytes: 1 << 20,
      maxStalenessMs: 60_000,
    },
    collectorDeps({
      http,
      clock: timers,
      timers,
      logger,
    }),
  );
  /**
   * One scrape, 15 s after the last (the exporter is read ahead of it): DCGM, then the GPU
   * view on its report and on the other readers' given.
   */
  const scrape = async (others: readonly GpuReport[] = []) => {
    await timers.advance(15_000);
    return throughView(view, (out) => collector.collect(out, new AbortController().signal), others);
  };
  return {
    collector,
    view,
    logs,
    scrape,
    calls: () => calls,
    tick: (ms: number) => timers.advance(ms),
    answer: (a: typeof answer) => (answer = a),
  };
}

/** nvidia-smi streaming the first two GPUs, with the figures its driver has. */
const NVIDIA_SMI: GpuReport = {
  reader: 'nvidia_smi',
  gpus: [SMI_GPU0, SMI_GPU1].map((uuid, i) =>
    sighting(uuid, {
      index: String(i),
      figures: [
        { metric: smi.GPU_UTILIZATION, labels: {}, value: 0.25 },
        { metric: smi.GPU_MEMORY_USED, labels: {}, value: 1000 },
        { metric: smi.GPU_TEMPERATURE, labels: { sensor: 'gpu' }, value: 40 },
        { metric: smi.GPU_ECC_ERRORS, labels: { type: 'corrected', scope: 'volatile' }, value: 3 },
      ],
      energyJoules: 0,
    }),
  ),
};
/** The kernel log, read, with no Xid yet. */
const KERNEL_LOG: GpuReport = { reader: 'kernel_log', gpus: [], xids: [] };

const gpuLabels = (uuid: string, gpu: string) => ({
  gpu,
  uuid,
  gpu_model: 'NVIDIA H100 80GB HBM3',
});

describe('DcgmCollector', () => {
  it('adds its own families for every GPU; of the families nvidia-smi reads, a GPU it streams gets nvidia-smi figures, the other DCGM figures', async () => {
    const { scrape, answer } = setup();
    const out = await scrape([NVIDIA_SMI, KERNEL_LOG]);
    expect(out.value(dm.GPU_SM_ACTIVE, gpuLabels(SMI_GPU0, '0'))).toBe(0.801234);
    expect(out.value(dm.GPU_TENSOR_ACTIVE, gpuLabels(DCGM_ONLY_GPU, '2'))).toBe(0.512345);
    expect(
      out.value(dm.GPU_NVLINK_THROUGHPUT, { ...gpuLabels(SMI_GPU1, '1'), direction: 'receive' }),
    ).toBe(44500000000);
    expect(
      out.value(dm.GPU_CLOCK_VIOLATION_SECONDS, {
        ...gpuLabels(DCGM_ONLY_GPU, '2'),
        policy: 'thermal',
      }),
    ).toBe(2.5);
    // nvidia-smi's families: its own figures for the GPUs it streams, DCGM's for the other.
    const smiFamilies = new Set([
      smi.GPU_INFO,
      smi.GPU_UTILIZATION,
      smi.GPU_MEMORY_USED,
      smi.GPU_TEMPERATURE,
      smi.GPU_ENERGY,
      smi.GPU_ECC_ERRORS,
    ]);
    for (const uuid of [SMI_GPU0, SMI_GPU1]) {
      const series = out.samples.filter((s) => smiFamilies.has(s.def) && s.labels.uuid === uuid);
      expect(series.map((s) => `${s.def.name}${s.labels.sensor ?? ''} ${s.value}`).sort()).toEqual(
        [
          'inferwatch_gpu_info 1',
          'inferwatch_gpu_energy_joules_total 0',
          'inferwatch_gpu_utilization_ratio 0.25',
          'inferwatch_gpu_memory_used_bytes 1000',
          'inferwatch_gpu_temperature_celsiusgpu 40',
          'inferwatch_gpu_ecc_errors_total 3',
        ].sort(),
      );
    }
    // A family nvidia-smi does not read for its GPU (this driver lacks it) is DCGM's.
    expect(out.value(smi.GPU_MEMORY_TOTAL, gpuLabels(SMI_GPU0, '0'))).toBeGreaterThan(0);
    const only = gpuLabels(DCGM_ONLY_GPU, '2');
    expect(out.value(smi.GPU_UTILIZATION, only)).toBe(1);
    expect(out.value(smi.GPU_MEMORY_USED, only)).toBe(79802 * MIB);
    expect(out.value(smi.GPU_MEMORY_TOTAL, only)).toBe((79802 + 1203 + 554) * MIB);
    expect(out.value(smi.GPU_TEMPERATURE, { ...only, sensor: 'gpu' })).toBe(58);
    expect(out.value(smi.GPU_TEMPERATURE, { ...only, sensor: 'memory' })).toBeUndefined();
    expect(out.value(smi.GPU_ECC_ERRORS, { ...only, type: 'corrected', scope: 'volatile' })).toBe(
      12,
    );
    expect(out.value(smi.GPU_ENERGY, only)).toBe(0);
    expect(
      out.samples.find((s) => s.def === smi.GPU_INFO && s.labels.uuid === DCGM_ONLY_GPU)?.labels,
    ).toMatchObject({
      driver_version: '590.48.01',
      pci_bus_id: '0000:9b:00',
    });
    // The kernel log reads Xids: DCGM's count of a new one adds nothing.
    answer(async () => ({ status: 200, body: H100.replace(/(xid="13"\}) 1/, '$1 3') }));
    const later = await scrape([NVIDIA_SMI, KERNEL_LOG]);
    const xids = later.samples.filter((s) => s.def === GPU_XID_ERRORS);
    expect(xids.length).toBeGreaterThan(0);
    expect(xids.filter((s) => s.value !== 0)).toEqual([]);
  });

  it('advances the shared energy counter by DCGM increments, in joules', async () => {
    const { scrape, answer } = setup();
    await scrape();
    answer(async () => ({
      status: 200,
      body: H100.replace(
        /(DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION\{gpu="2".*\}) 9876543210/,
        '$1 9876553210',
      ),
    }));
    const out = await scrape();
    expect(out.value(smi.GPU_ENERGY, gpuLabels(DCGM_ONLY_GPU, '2'))).toBe(10);
    expect(out.value(smi.GPU_ENERGY, gpuLabels(SMI_GPU0, '0'))).toBe(0);
  });

  it('counts Xids from DCGM where the kernel log cannot be read, with paged codes at 0 from the start', async () => {
    const { scrape, answer } = setup();
    const first = await scrape();
    const xid = (out: Recorder, code: string) =>
      out.samples.find(
        (s) => s.def === GPU_XID_ERRORS && s.labels.uuid === DCGM_ONLY_GPU && s.labels.xid === code,
      )?.value;
    expect(xid(first, '79')).toBe(0);
    expect(xid(first, '13')).toBeUndefined(); // the window's backlog is not counted
    answer(async () => ({
      status: 200,
      body: H100.replace(/(xid="13"\}) 1/, '$1 3'),
    }));
    const second = await scrape();
    expect(xid(second, '13')).toBe(2);
    expect(second.samples.find((s) => s.def === GPU_XID_ERRORS)?.labels.pci_bus_id).toMatch(
      /^0000:/,
    );
  });

  it('where none was configured, a port that does not answer is "missing", looked at again after a minute, and not a failure', async () => {
    const { collector, scrape, answer, calls, tick, logs } = setup();
    answer(() => Promise.reject(new HttpError('unreachable', 'connect ECONNREFUSED')));
    const out = await scrape();
    expect(out.samples).toEqual([]);
    expect(collector.status()).toMatchObject({ state: 'missing' });
    expect(collector.status().todo).toMatch(/collectors\.dcgm\.url/);
    await scrape();
    expect(calls()).toBe(1);
    await tick(60_000);
    answer(async () => ({ status: 200, body: H100 }));
    await scrape();
    expect(calls()).toBe(2);
    expect(collector.status()).toMatchObject({ state: 'ok' });
    expect(collector.status().detail).toMatch(/^3 GPU\(s\)/);
    expect(logs.filter((l) => l.includes('no dcgm-exporter')).length).toBe(1);
  });

  it('where one was configured, or once one was found, a failure fails the collector and gives the GPUs back to the integral', async () => {
    const configured = setup({ configured: true });
    configured.answer(async () => ({ status: 503, body: '' }));
    await expect(configured.scrape()).rejects.toMatchObject({ reason: 'http_503' });
    expect(configured.collector.status().state).toBe('failing');

    const found = setup();
    const integral = (joules: number): GpuReport => ({
      reader: 'nvidia_smi',
      gpus: [sighting(DCGM_ONLY_GPU, { index: '2', energyJoules: joules })],
    });
    // DCGM speaks for the GPU's energy: the integral is only a baseline.
    await found.scrape([integral(0)]);
    found.answer(async () => ({ status: 500, body: '' }));
    await expect(found.scrape([integral(4)])).rejects.toMatchObject({ reason: 'http_500' });
    // The view, in that scrape, has nvidia-smi's report alone: the integral speaks.
    const out = await throughView(found.view, () => undefined, [integral(4)]);
    expect(out.value(smi.GPU_ENERGY, gpuLabels(DCGM_ONLY_GPU, '2'))).toBe(4);
  });

  it('busy is not down: an exporter that took the connection and did not answer is served from its last good read, with its time', async () => {
    const found = setup();
    const fresh = await found.scrape(); // at 15 s
    expect(fresh.lastGoodAt).toBeUndefined();
    await found.tick(5000);
    found.answer(() =>
      Promise.reject(new HttpError('timeout', 'no complete answer within 1000 ms')),
    );
    const stale = await found.scrape();
    expect(stale.lastGoodAt).toEqual({ readAtEpochMs: 15_000, reason: 'unresponsive' });
    const sm = { gpu: '2', uuid: DCGM_ONLY_GPU, gpu_model: 'NVIDIA H100 80GB HBM3' };
    expect(fresh.value(dm.GPU_SM_ACTIVE, sm)).toBeGreaterThan(0);
    expect(stale.value(dm.GPU_SM_ACTIVE, sm)).toBe(fresh.value(dm.GPU_SM_ACTIVE, sm));
    // Past collectors.max_staleness_ms, nothing is served.
    await found.tick(60_001);
    await expect(found.scrape()).rejects.toMatchObject({ reason: 'timeout' });
  });

  it('where DCGM speaks for a MIG GPU (nvidia-smi off), the GPU keeps its identity, temperature and power, and each instance its series', async () => {
    const { scrape } = setup({ body: A30_MIG_3X });
    const out = await scrape();
    const gpu0 = {
      gpu: '0',
      uuid: 'GPU-265c9814-6156-355b-e589-ff2064894f16',
      gpu_model: 'NVIDIA A30',
    };
    expect(
      out.samples.find((s) => s.def === smi.GPU_INFO && s.labels.gpu === '0')?.labels,
    ).toMatchObject({ mig_mode: 'Enabled', uuid: gpu0.uuid });
    expect(out.value(smi.GPU_TEMPERATURE, { ...gpu0, sensor: 'gpu' })).toBe(35);
    expect(out.value(smi.GPU_TEMPERATURE, { ...gpu0, sensor: 'memory' })).toBe(35);
    expect(
      out.samples.filter((s) => s.def === smi.GPU_POWER_DRAW && s.labels.uuid === gpu0.uuid),
    ).toHaveLength(1);
    expect(out.value(smi.GPU_POWER_DRAW, gpu0)).toBe(52.636);
    expect(
      out.samples
        .filter((s) => s.def === dm.MIG_INSTANCE_INFO && s.labels.uuid === gpu0.uuid)
        .map((s) => s.labels.gpu_instance),
    ).toEqual(['3', '4', '5', '6']);

    const a100 = await setup({ body: A100_MIG }).scrape();
    expect(
      a100.value(dm.MIG_GRAPHICS_ENGINE_ACTIVE, {
        gpu: '0',
        uuid: 'GPU-2c2f45e8-0886-e3cc-02be-a4181a13fc9b',
        gpu_model: 'NVIDIA A100 80GB PCIe',
        gpu_instance: '9',
        mig_profile: '1g.10gb',
      }),
    ).toBe(0.033893);
    // Whole-GPU activity of a MIG GPU is not the sum of its instances: DCGM gives none, so none.
    expect(a100.samples.some((s) => s.def === dm.GPU_GRAPHICS_ENGINE_ACTIVE)).toBe(false);
  });

  it('labels a GPU as nvidia-smi does when nvidia-smi knows it, and names the GPU at a bus nvidia-smi does not list', async () => {
    const { scrape } = setup();
    const named: GpuReport = {
      reader: 'nvidia_smi',
      gpus: [sighting(SMI_GPU0, { index: '7', model: 'H100 SXM', pciBusId: '0000:10:00' })],
    };
    const xidAtDcgmGpu: GpuReport = {
      reader: 'kernel_log',
      gpus: [],
      xids: [{ pciBusId: '0000:9b:00', uuid: '', xid: 79, events: 1 }],
    };
    const out = await scrape([named, xidAtDcgmGpu]);
    expect(out.value(dm.GPU_SM_ACTIVE, { gpu: '7', uuid: SMI_GPU0, gpu_model: 'H100 SXM' })).toBe(
      0.801234,
    );
    expect(
      out.samples.find(
        (s) => s.def === GPU_XID_ERRORS && s.labels.pci_bus_id === '0000:9b:00' && s.value === 1,
      )?.labels.uuid,
    ).toBe(DCGM_ONLY_GPU);
  });
});
