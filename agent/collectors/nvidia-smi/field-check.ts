import { CollectorError } from '../../core/collector.js';
import type { ProcessRunner } from '../../core/exec.js';
import { ALL_FIELDS, type FieldSpec } from './fields.js';
import { parseCudaVersion, parseInvalidField, queryArgs, type FieldSelection } from './parse.js';

export interface FieldCheck {
  readonly selection: FieldSelection;
  /** Fields this driver knows under none of their names. */
  readonly dropped: readonly string[];
  readonly cudaVersion: string | undefined;
}

const CHECK_MAX_BYTES = 1024 * 1024;

/**
 * Finds which of our fields this driver accepts, once at start: one-shot queries, swapping a
 * rejected name for its older or newer spelling, or dropping the field. Also reads the CUDA
 * version the driver supports, which --query-gpu does not offer.
 */
export async function checkFields(
  runner: ProcessRunner,
  command: string,
  timeoutMs: number,
  signal: AbortSignal,
  fields: readonly FieldSpec[] = ALL_FIELDS,
): Promise<FieldCheck> {
  const choice = new Map<FieldSpec, number>(fields.map((f) => [f, 0]));
  const dropped: string[] = [];
  const selectionOf = (): FieldSelection => ({
    columns: [...choice].map(([spec, i]) => ({ spec, name: spec.names[i] ?? '' })),
  });
  for (let attempt = 0; attempt <= fields.length; attempt++) {
    const selection = selectionOf();
    const result = await runner.run(command, queryArgs(selection), {
      timeoutMs,
      maxBytes: CHECK_MAX_BYTES,
      signal,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    if (result.timedOut) {
      throw new CollectorError('timeout', `field check: no answer within ${timeoutMs} ms`);
    }
    if (result.exitCode === 0 && !result.truncated) {
      const cudaVersion = await readCudaVersion(runner, command, timeoutMs, signal);
      return { selection, dropped, cudaVersion };
    }
    const rejected = parseInvalidField(output);
    const spec = rejected ? [...choice].find(([s, i]) => s.names[i] === rejected)?.[0] : undefined;
    if (!spec) {
      throw new CollectorError('start_failed', `field check failed: ${firstLine(output)}`);
    }
    const next = (choice.get(spec) ?? 0) + 1;
    if (next < spec.names.length) {
      choice.set(spec, next);
    } else if ('required' in spec && spec.required) {
      throw new CollectorError(
        'unsupported',
        `this nvidia-smi does not know ${spec.names.join(' or ')}`,
      );
    } else {
      choice.delete(spec);
      dropped.push(spec.names.join(' | '));
    }
  }
  throw new CollectorError('start_failed', 'field check did not converge');
}

async function readCudaVersion(
  runner: ProcessRunner,
  command: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<string | undefined> {
  // --version exists since driver 535; older drivers print the version in the summary table.
  for (const args of [['--version'], []]) {
    try {
      const r = await runner.run(command, args, { timeoutMs, maxBytes: CHECK_MAX_BYTES, signal });
      const version = parseCudaVersion(r.stdout);
      if (version) return version;
    } catch {
      // Best effort: the label stays empty.
    }
  }
  return undefined;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? 'no output'
  ).slice(0, 300);
}
