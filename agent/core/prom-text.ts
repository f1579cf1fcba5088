/**
 * A parser for the Prometheus text format (0.0.4) and OpenMetrics 1.0, for reading other
 * exporters: runtimes' /metrics and dcgm-exporter.
 *
 * Written here because the one npm parser (parse-prometheus-text-format 1.1.1, last released
 * 2018) throws on `_sum` before `_bucket` (SGLang prints that order), reads an exemplar as a
 * timestamp and splits an OpenMetrics counter from its `_total` samples.
 *
 * Lenient where the field is sloppy, strict where a value could lie: a line that does not parse
 * is skipped and counted, never guessed at.
 */
import { metricKey, parseSampleLine } from './sample-line.js';

export type FamilyType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown'
  | 'untyped';

export interface ParsedSample {
  /** The sample's own name with `:` rewritten to `_` (`vllm_e2e_request_latency_seconds_bucket`). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

export interface ParsedFamily {
  /** The family name with `:` rewritten to `_`, the key it is found by. */
  readonly name: string;
  /** The name as the source wrote it. */
  readonly rawName: string;
  readonly type: FamilyType;
  readonly help: string | undefined;
  readonly samples: readonly ParsedSample[];
}

export interface ParsedExposition {
  readonly families: ReadonlyMap<string, ParsedFamily>;
  /** Lines that did not parse and were skipped. */
  readonly badLines: number;
  /** The first bad line's problem, for the error message. */
  readonly firstProblem: string | undefined;
  readonly sampleCount: number;
}

interface MutableFamily {
  name: string;
  rawName: string;
  type: FamilyType;
  help: string | undefined;
  samples: ParsedSample[];
}

const SUFFIXES: Readonly<Record<FamilyType, readonly string[]>> = {
  counter: ['_total', '_created', ''],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['', '_sum', '_count', '_created'],
  info: ['_info'],
  stateset: [''],
  unknown: [''],
  untyped: [''],
};

const TYPES = new Set<string>(Object.keys(SUFFIXES));

export { metricKey, parseValue } from './sample-line.js';

export function parseExposition(text: string): ParsedExposition {
  const families = new Map<string, MutableFamily>();
  let current: MutableFamily | undefined;
  let badLines = 0;
  let firstProblem: string | undefined;
  let sampleCount = 0;
  const bad = (lineNo: number, problem: string): void => {
    badLines++;
    firstProblem ??= `line ${lineNo}: ${problem}`;
  };

  const declared = (rawName: string): MutableFamily => {
    const name = metricKey(rawName);
    let family = families.get(name);
    if (!family) {
      family = { name, rawName, type: 'untyped', help: undefined, samples: [] };
      families.set(name, family);
    }
    return family;
  };

  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;

    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE|UNIT|EOF)\b\s*(\S*)\s?(.*)$/.exec(line);
      if (!meta) continue; // a plain comment
      const [, keyword, rawName = '', rest = ''] = meta;
      if (keyword === 'EOF') break;
      if (keyword === 'UNIT' || rawName === '') continue;
      const family = declared(rawName);
      if (keyword === 'HELP') family.help = unescapeHelp(rest);
      else {
        const type = rest.trim().toLowerCase();
        if (!TYPES.has(type)) {
          bad(lineNo, `unknown type "${rest.trim()}"`);
          continue;
        }
        family.type = type as FamilyType;
      }
      current = family;
      continue;
    }

    const parsed = parseSampleLine(line);
    if (typeof parsed === 'string') {
      bad(lineNo, parsed);
      continue;
    }
    const owner = ownerOf(parsed.name, current, families) ?? declared(parsed.rawName);
    owner.samples.push(parsed.sample);
    sampleCount++;
    current = owner;
  }
  return { families, badLines, firstProblem, sampleCount };
}

/** The family a sample belongs to: the one being read, or a declared one its name extends. */
function ownerOf(
  sampleName: string,
  current: MutableFamily | undefined,
  families: ReadonlyMap<string, MutableFamily>,
): MutableFamily | undefined {
  if (current && belongs(sampleName, current)) return current;
  const exact = families.get(sampleName);
  if (exact && belongs(sampleName, exact)) return exact;
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created', '_gsum', '_gcount']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family && belongs(sampleName, family)) return family;
  }
  return undefined;
}

function belongs(sampleName: string, family: MutableFamily): boolean {
  if (!sampleName.startsWith(family.name)) return false;
  const suffix = sampleName.slice(family.name.length);
  return SUFFIXES[family.type].includes(suffix);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}
