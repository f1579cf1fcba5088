import { describe, expect, it } from 'vitest';
import { checkFields } from '../../agent/collectors/nvidia-smi/field-check.js';
import { CollectorError } from '../../agent/core/collector.js';
import { readCapture } from '../../demo/fake/capture.js';
import { fixture, readFixture } from '../helpers/fixtures.js';
import { FakeRunner } from '../helpers/fake-runner.js';

/** nvidia-smi as a given driver answers: it rejects the first field it does not know. */
function driverKnowing(
  fields: readonly string[],
  version = readFixture('nvidia-smi', 'nvidia-smi_version_h100_drv590.48.01.txt'),
) {
  return new FakeRunner((args) => {
    if (args[0] === '--version') return { stdout: version };
    const query = args
      .find((a) => a.startsWith('--query-gpu='))!
      .slice('--query-gpu='.length)
      .split(',');
    const unknown = query.find((f) => !fields.includes(f));
    return unknown
      ? { exitCode: 2, stdout: `Field "${unknown}" is not a valid field to query.\n\n` }
      : { stdout: '0, ...\n' };
  });
}

const H100_FIELDS = readCapture(
  fixture('nvidia-smi', 'nvidia-smi_query-gpu_csv_h100-80gb-hbm3_drv590.48.01_load.csv'),
).fields;
const names = (r: Awaited<ReturnType<typeof checkFields>>) =>
  r.selection.columns.map((c) => c.name);

describe('checkFields', () => {
  it('keeps every field a 590 driver knows, and reads the CUDA version', async () => {
    const result = await checkFields(
      driverKnowing(H100_FIELDS),
      'nvidia-smi',
      1000,
      new AbortController().signal,
    );
    expect(result.dropped).toEqual([]);
    expect(names(result)).toContain('clocks_event_reasons.sw_power_cap');
    expect(names(result)).toContain('pcie.link.gen.gpucurrent');
    expect(result.cudaVersion).toBe('13.1');
  });

  it('falls back to clocks_throttle_reasons on a driver before 535, and drops what it lacks', async () => {
    const old = H100_FIELDS.map((f) =>
      f.replace('clocks_event_reasons.', 'clocks_throttle_reasons.'),
    ).filter(
      (f) =>
        !f.startsWith('clocks_event_reasons_counters.') &&
        !f.startsWith('pcie.link.gen.gpu') &&
        f !== 'gpu_recovery_action',
    );
    const runner = driverKnowing(old, '');
    const result = await checkFields(runner, 'nvidia-smi', 1000, new AbortController().signal);
    expect(names(result)).toContain('clocks_throttle_reasons.hw_slowdown');
    expect(names(result)).not.toContain('clocks_event_reasons.hw_slowdown');
    expect(names(result)).toContain('pcie.link.gen.current');
    expect(result.dropped).toContain('gpu_recovery_action');
    expect(result.dropped).toContain('clocks_event_reasons_counters.sw_power_cap');
    // No --version and no CUDA line in the summary: the label stays empty.
    expect(result.cudaVersion).toBeUndefined();
  });

  it('fails when the driver lacks an identity field it cannot do without', async () => {
    const runner = driverKnowing(H100_FIELDS.filter((f) => f !== 'uuid'));
    await expect(
      checkFields(runner, 'nvidia-smi', 1000, new AbortController().signal),
    ).rejects.toMatchObject({
      reason: 'unsupported',
    });
  });

  it('reports a driver failure as such, naming its first line', async () => {
    const runner = new FakeRunner(() => ({
      exitCode: 9,
      stdout: readFixture('nvidia-smi', 'nvidia-smi_failure_couldnt-communicate-with-driver.txt')
        .split('\n')
        .slice(1)
        .join('\n'),
    }));
    const error = await checkFields(runner, 'nvidia-smi', 1000, new AbortController().signal).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(CollectorError);
    expect(error.message).toContain("couldn't communicate with the NVIDIA driver");
  });

  it('a probe that times out says so', async () => {
    const runner = new FakeRunner(() => ({ exitCode: null, signal: 'SIGTERM', timedOut: true }));
    await expect(
      checkFields(runner, 'nvidia-smi', 1000, new AbortController().signal),
    ).rejects.toMatchObject({
      reason: 'timeout',
    });
  });
});
