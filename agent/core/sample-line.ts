import type { ParsedSample } from './prom-text.js';

/** `vllm:num_requests_running` and `vllm_num_requests_running` are one name to an adapter. */
export function metricKey(name: string): string {
  return name.includes(':') ? name.replaceAll(':', '_') : name;
}

/** A sample line of the text format or OpenMetrics, as prom-text.ts reads it. */
export interface SampleLine {
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
