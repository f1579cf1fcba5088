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

/** `vllm:num_requests_running` and `vllm_num_requests_running` are one name to an adapter. */
export function metricKey(name: string): string {
  return name.includes(':') ? name.replaceAll(':', '_') : name;
}

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

interface SampleLine {
  readonly rawName: string;
  readonly name: string;
  readonly sample: ParsedSample;
}

/** One sample line, or what is wrong with it. */
export function parseSampleLine(line: string): SampleLine | string {
  let i = 0;
  const n = line.length;
  while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  let rawName = '';
  const nameStart = i;
  while (i < n && isNameChar(line.charCodeAt(i))) i++;
  rawName = line.slice(nameStart, i);
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      let labelName: string;
      if (line[i] === '"') {
        const quoted = readQuoted(line, i);
        if (typeof quoted === 'string') return quoted;
        i = quoted.end;
        while (line[i] === ' ') i++;
        // Prometheus 3's UTF-8 form: {"metric.name", label="v"}.
        if (line[i] === ',' || line[i] === '}') {
          if (rawName !== '') return 'two metric names';
          rawName = quoted.value;
          if (line[i] === ',') i++;
          continue;
        }
        labelName = quoted.value;
      } else {
        const labelStart = i;
        while (i < n && isNameChar(line.charCodeAt(i)) && line[i] !== ':') i++;
        labelName = line.slice(labelStart, i);
        if (labelName === '') return `bad label name at column ${i + 1}`;
      }
      while (line[i] === ' ') i++;
      if (line[i] !== '=') return `expected "=" after label ${labelName}`;
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') return `label ${labelName} has an unquoted value`;
      const value = readQuoted(line, i);
      if (typeof value === 'string') return value;
      i = value.end;
      if (Object.hasOwn(labels, labelName)) return `label ${labelName} given twice`;
      labels[labelName] = value.value;
      while (line[i] === ' ') i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') return `expected "," or "}" at column ${i + 1}`;
    }
  }
  const first = rawName.charCodeAt(0);
  if (rawName === '' || (first >= 48 && first <= 57)) return 'no metric name';
  if (line[i] !== ' ' && line[i] !== '\t') return 'no value';
  const fields = valueFields(line, i);
  if (fields.length > 2 || fields.length === 0) return 'extra fields after the value';
  const value = parseValue(fields[0] as string);
  if (value === undefined) return `bad value "${fields[0]}"`;
  let timestampMs: number | undefined;
  if (fields.length === 2) {
    const ts = Number(fields[1]);
    if (!Number.isFinite(ts)) return `bad timestamp "${fields[1]}"`;
    // OpenMetrics writes seconds with a fraction, the text format integer milliseconds.
    timestampMs = (fields[1] as string).includes('.') ? ts * 1000 : ts;
  }
  const name = metricKey(rawName);
  const sample: ParsedSample =
    timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs };
  return { rawName, name, sample };
}

/** The value and the optional timestamp after column `from`; an exemplar (" # ...") ends them. */
function valueFields(line: string, from: number): string[] {
  const fields: string[] = [];
  let i = from;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n || line[i] === '#') break;
    const start = i;
    while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
    fields.push(line.slice(start, i));
  }
  return fields;
}

function isNameChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 48 && code <= 57) || // 0-9
    code === 95 || // _
    code === 58 // :
  );
}

function readQuoted(line: string, at: number): { value: string; end: number } | string {
  let value = '';
  let i = at + 1;
  for (;;) {
    const next = line.indexOf('"', i);
    const slash = line.indexOf('\\', i);
    if (next === -1) return 'unterminated quoted string';
    if (slash !== -1 && slash < next) {
      value += line.slice(i, slash);
      const escaped = line[slash + 1];
      value +=
        escaped === 'n'
          ? '\n'
          : escaped === '\\' || escaped === '"'
            ? escaped
            : `\\${escaped ?? ''}`;
      i = slash + 2;
      continue;
    }
    value += line.slice(i, next);
    return { value, end: next + 1 };
  }
}

/** Go's ParseFloat forms the format allows: NaN, ±Inf, decimal and exponent notation. */
export function parseValue(text: string): number | undefined {
  switch (text.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case '+inf':
    case 'inf':
    case '+infinity':
    case 'infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}
