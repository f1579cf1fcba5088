/**
 * A fake nvidia-smi for integration tests: replays real captures, streams with -lms, and on
 * command (a line in the file named by FAKE_NVSMI_CONTROL) hangs, exits, prints garbage,
 * loses a GPU or loses the driver.
 *
 *   FAKE_NVSMI_FIXTURE  query-gpu capture (default: the H100 capture)
 *   FAKE_NVSMI_GPUS     how many GPUs to present (copies of the capture's first row)
 *   FAKE_NVSMI_APPS     query-compute-apps capture (default: none: no processes)
 *   FAKE_NVSMI_CONTROL  control file: hang | exit | garbage | lose-gpu N | driver-error | ok
 *   FAKE_NVSMI_LOG      every invocation appends "pid args" here
 *   FAKE_NVSMI_UNKNOWN  comma-separated fields to reject, as an older driver would
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { project, readCapture } from './capture.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/nvidia-smi');
const env = process.env;
const args = process.argv.slice(2);

process.stdout.on('error', () => process.exit(0)); // EPIPE: the reader is gone, as SIGPIPE would end us.
if (env.FAKE_NVSMI_LOG) appendFileSync(env.FAKE_NVSMI_LOG, `${process.pid} ${args.join(' ')}\n`);

const flag = (name: string) => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
const loopIndex = args.indexOf('-lms');
const loopMs = loopIndex >= 0 ? Number(args[loopIndex + 1]) : undefined;
const format = flag('--format') ?? '';
const nounits = format.includes('nounits');

function control(): string {
  if (!env.FAKE_NVSMI_CONTROL) return '';
  try {
    return readFileSync(env.FAKE_NVSMI_CONTROL, 'utf8').trim();
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gpuCount = Number(env.FAKE_NVSMI_GPUS ?? '1');
const uuidOf = (i: number) =>
  `GPU-${String(i).padStart(8, '0')}-1111-2222-3333-${String(i).padStart(12, '0')}`;
const busOf = (i: number) => `00000000:${(0x10 + i).toString(16).toUpperCase()}:00.0`;

async function loop(round: () => boolean | Promise<boolean>): Promise<void> {
  for (;;) {
    if (!(await round())) return;
    if (loopMs === undefined) return;
    await sleep(loopMs);
  }
}

async function queryGpu(fieldList: string): Promise<number> {
  const unknown = new Set((env.FAKE_NVSMI_UNKNOWN ?? '').split(',').filter(Boolean));
  const full = readCapture(
    env.FAKE_NVSMI_FIXTURE ??
      join(fixtures, 'nvidia-smi_query-gpu_csv_h100-80gb-hbm3_drv590.48.01_load.csv'),
  );
  const capture = {
    ...full,
    fields: full.fields.map((f) => (unknown.has(f) ? `(unknown) ${f}` : f)),
  };
  const fields = fieldList.split(',');
  const base = capture.rows[0] ?? [];
  const rows: string[] = [];
  for (let i = 0; i < gpuCount; i++) {
    const projected = project(
      capture,
      base,
      fields,
      {
        index: String(i),
        uuid: uuidOf(i),
        'pci.bus_id': busOf(i),
        count: String(gpuCount),
      },
      !nounits,
    );
    if ('missing' in projected) {
      process.stdout.write(`Field "${projected.missing}" is not a valid field to query.\n\n`);
      return 2;
    }
    rows.push(projected.line);
  }
  if (!format.includes('noheader')) process.stdout.write(`${fields.join(', ')}\n`);
  let lost = -1;
  let printedLost = false;
  let code = 0;
  await loop(async () => {
    const command = control();
    if (command === 'hang') {
      // A wedged driver: alive, silent. (A bare pending promise would let Node exit.)
      await new Promise(() => setInterval(() => undefined, 60_000));
    }
    if (command === 'exit') {
      code = 1;
      return false;
    }
    if (command === 'driver-error') {
      process.stdout.write(
        readFileSync(
          join(fixtures, 'nvidia-smi_failure_couldnt-communicate-with-driver.txt'),
          'utf8',
        ).split('\n')[1] + '\n',
      );
      code = 9;
      return false;
    }
    if (command === 'garbage') process.stdout.write('this is not, a row\n');
    const lose = /^lose-gpu (\d+)$/.exec(command);
    if (lose) {
      lost = Number(lose[1]);
      if (!printedLost) {
        process.stdout.write(
          `Unable to determine the device handle for GPU ${busOf(lost)}: GPU is lost.  Reboot the system to recover this GPU\n`,
        );
        printedLost = true;
      }
    }
    process.stdout.write(
      rows
        .filter((_, i) => i !== lost)
        .map((r) => `${r}\n`)
        .join(''),
    );
    return true;
  });
  return code;
}

async function queryComputeApps(fieldList: string): Promise<number> {
  const fields = fieldList.split(',');
  const capture = env.FAKE_NVSMI_APPS ? readCapture(env.FAKE_NVSMI_APPS) : { fields, rows: [] };
  let code = 0;
  await loop(() => {
    const command = control();
    if (command === 'exit') {
      code = 1;
      return false;
    }
    const stamp = new Date().toISOString().replace('T', ' ').replace('Z', '').replaceAll('-', '/');
    for (const row of capture.rows) {
      const projected = project(
        capture,
        row,
        fields,
        { timestamp: stamp, gpu_uuid: uuidOf(0) },
        !nounits,
      );
      if ('missing' in projected) {
        process.stdout.write(`Field "${projected.missing}" is not a valid field to query.\n`);
        code = 2;
        return false;
      }
      process.stdout.write(`${projected.line}\n`);
    }
    return true;
  });
  return code;
}

async function main(): Promise<number> {
  if (args.includes('--version')) {
    process.stdout.write(
      readFileSync(join(fixtures, 'nvidia-smi_version_h100_drv590.48.01.txt'), 'utf8'),
    );
    return 0;
  }
  const gpu = flag('--query-gpu');
  if (gpu) return queryGpu(gpu);
  const apps = flag('--query-compute-apps');
  if (apps) return queryComputeApps(apps);
  process.stdout.write('fake nvidia-smi: unsupported arguments\n');
  return 1;
}

process.exitCode = await main();
