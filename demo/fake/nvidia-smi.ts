/**
 * A fake nvidia-smi for integration tests: replays real captures, streams with -lms, and on
 * command (a line in the file named by FAKE_NVSMI_CONTROL) hangs, exits, prints garbage,
 * loses a GPU or loses the driver.
 *
 *   FAKE_NVSMI_FIXTURE  query-gpu capture (default: the H100 capture)
 *   FAKE_NVSMI_GPUS     how many GPUs to present (copies of the capture's first row)
 *   FAKE_NVSMI_APPS     query-compute-apps capture (default: none: no processes)
 *   FAKE_NVSMI_CONTROL  control file, one command a line, re-read every sample:
 *                         hang | exit | garbage | driver-error | ok |
 *                         lose-gpu N [first|in-place|last] [every]  (where its "GPU is lost"
 *                         line goes among the rows, and whether every sample repeats it:
 *                         which a real nvidia-smi does is not established; default first, once)
 *                         set N|all FIELD=VALUE [FIELD=VALUE ...]  (a bare number takes the
 *                         capture's unit: "set 3 utilization.gpu=40" prints "40 %";
 *                         _ stands for a space: "Not_Active")
 *   FAKE_NVSMI_LOG      every invocation appends "pid args" here
 *   FAKE_NVSMI_UNKNOWN  comma-separated fields to reject, as an older driver would
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { project, readCapture } from './capture.js';
import { busOf, uuidOf } from '../sim/gpu-identity.js';

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

interface LostAt {
  readonly position: 'first' | 'in-place' | 'last';
  readonly every: boolean;
}

interface Control {
  /** The first line that is neither lose-gpu nor set: hang, exit, garbage, driver-error. */
  readonly command: string;
  readonly lost: ReadonlyMap<number, LostAt>;
  /** Field overrides by GPU index; -1 holds those for every GPU. */
  readonly overrides: ReadonlyMap<number, Readonly<Record<string, string>>>;
}

function control(): Control {
  let text = '';
  try {
    if (env.FAKE_NVSMI_CONTROL) text = readFileSync(env.FAKE_NVSMI_CONTROL, 'utf8');
  } catch {
    // No control file: a healthy GPU.
  }
  let command = '';
  const lost = new Map<number, LostAt>();
  const overrides = new Map<number, Record<string, string>>();
  for (const line of text.split('\n').map((l) => l.trim())) {
    const lose = /^lose-gpu (\d+)(?: (first|in-place|last))?( every)?$/.exec(line);
    const set = /^set (\d+|all) (.+)$/.exec(line);
    if (lose)
      lost.set(Number(lose[1]), {
        position: (lose[2] ?? 'first') as LostAt['position'],
        every: lose[3] !== undefined,
      });
    else if (set) {
      const gpu = set[1] === 'all' ? -1 : Number(set[1]);
      const fields = overrides.get(gpu) ?? {};
      for (const pair of (set[2] ?? '').split(/\s+/)) {
        const eq = pair.indexOf('=');
        if (eq > 0) fields[pair.slice(0, eq)] = pair.slice(eq + 1).replaceAll('_', ' ');
      }
      overrides.set(gpu, fields);
    } else if (line !== '' && command === '') command = line;
  }
  return { command, lost, overrides };
}

/** A bare number given for a field whose captured value has a unit gets that unit. */
function withUnitOf(captured: string, value: string): string {
  const unit = /^[+-]?\d+(?:\.\d+)? (\S+)$/.exec(captured)?.[1];
  return unit && /^[+-]?\d+(?:\.\d+)?$/.test(value) ? `${value} ${unit}` : value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gpuCount = Number(env.FAKE_NVSMI_GPUS ?? '1');

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
  const rowsFor = (overrides: Control['overrides']): { rows: string[] } | { missing: string } => {
    const rows: string[] = [];
    for (let i = 0; i < gpuCount; i++) {
      const set = { ...overrides.get(-1), ...overrides.get(i) };
      const changed: Record<string, string> = {};
      for (const [field, value] of Object.entries(set)) {
        const at = capture.fields.indexOf(field);
        changed[field] = at === -1 ? value : withUnitOf(base[at] ?? '', value);
      }
      const projected = project(
        capture,
        base,
        fields,
        {
          ...changed,
          index: String(i),
          uuid: uuidOf(i),
          'pci.bus_id': busOf(i),
          count: String(gpuCount),
        },
        !nounits,
      );
      if ('missing' in projected) return projected;
      rows.push(projected.line);
    }
    return { rows };
  };
  const first = rowsFor(new Map());
  if ('missing' in first) {
    process.stdout.write(`Field "${first.missing}" is not a valid field to query.\n\n`);
    return 2;
  }
  if (!format.includes('noheader')) process.stdout.write(`${fields.join(', ')}\n`);
  const reportedLost = new Set<number>();
  let code = 0;
  await loop(async () => {
    const { command, lost, overrides } = control();
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
    const current = rowsFor(overrides);
    const rows = 'rows' in current ? current.rows : [];
    const lostLine = (gpu: number, at: LostAt['position']): string[] => {
      const how = lost.get(gpu);
      if (!how || how.position !== at || (!how.every && reportedLost.has(gpu))) return [];
      reportedLost.add(gpu);
      return [
        `Unable to determine the device handle for GPU ${busOf(gpu)}: GPU is lost.  Reboot the system to recover this GPU`,
      ];
    };
    const indices = rows.map((_, i) => i);
    const lines = [
      ...indices.flatMap((i) => lostLine(i, 'first')),
      ...indices.flatMap((i) => [...lostLine(i, 'in-place'), ...(lost.has(i) ? [] : [rows[i]])]),
      ...indices.flatMap((i) => lostLine(i, 'last')),
    ];
    process.stdout.write(lines.map((l) => `${l}\n`).join(''));
    return true;
  });
  return code;
}

async function queryComputeApps(fieldList: string): Promise<number> {
  const fields = fieldList.split(',');
  const capture = env.FAKE_NVSMI_APPS ? readCapture(env.FAKE_NVSMI_APPS) : { fields, rows: [] };
  // A row on one of this fake's GPUs stays there (the demo's runtimes); a captured one (from
  // another machine) lands on GPU 0.
  const own = new Set(Array.from({ length: gpuCount }, (_, i) => uuidOf(i)));
  const uuidAt = capture.fields.indexOf('gpu_uuid');
  let code = 0;
  await loop(() => {
    const { command } = control();
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
        {
          timestamp: stamp,
          gpu_uuid: own.has(row[uuidAt]?.trim() ?? '') ? (row[uuidAt]?.trim() ?? '') : uuidOf(0),
        },
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

/**
 * `nvidia-smi -L`: a line per GPU, and under a GPU the MIG devices FAKE_NVSMI_MIG gives it
 * ("GPU:PROFILE:MIG-UUID", comma-separated).
 */
function listGpus(): number {
  const mig = (env.FAKE_NVSMI_MIG ?? '')
    .split(',')
    .filter(Boolean)
    .map((d) => d.split(':') as [string, string, string]);
  for (let i = 0; i < gpuCount; i++) {
    process.stdout.write(`GPU ${i}: NVIDIA H100 80GB HBM3 (UUID: ${uuidOf(i)})\n`);
    mig
      .filter(([gpu]) => Number(gpu) === i)
      .forEach(([, profile, uuid], n) =>
        process.stdout.write(
          `  MIG ${profile.padEnd(11)} Device ${String(n).padStart(2)}: (UUID: ${uuid})\n`,
        ),
      );
  }
  return 0;
}

async function main(): Promise<number> {
  if (args.includes('--version')) {
    process.stdout.write(
      readFileSync(join(fixtures, 'nvidia-smi_version_h100_drv590.48.01.txt'), 'utf8'),
    );
    return 0;
  }
  if (args[0] === '-L') return listGpus();
  const gpu = flag('--query-gpu');
  if (gpu) return queryGpu(gpu);
  const apps = flag('--query-compute-apps');
  if (apps) return queryComputeApps(apps);
  process.stdout.write('fake nvidia-smi: unsupported arguments\n');
  return 1;
}

process.exitCode = await main();
