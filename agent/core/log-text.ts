/** The fields every line has, written in the line's head rather than as key=value. */
const HEAD = new Set(['level', 'time', 'msg', 'app', 'pid', 'hostname']);

/** pino's numeric levels, as words. */
const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

function value(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * One JSON log line as a person reads it on a terminal: the time, the level in words, the
 * message, then the other fields as key=value. A line that is not JSON passes as it is.
 */
export function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVELS[Number(entry.level)] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key]) => !HEAD.has(key))
    .map(([key, v]) => `${key}=${value(v)}`);
  const head = `${String(entry.time ?? '')} ${level.padEnd(5)} ${String(entry.msg ?? '')}`;
  return `${[head, ...fields].join('  ')}\n`;
}
