/** /proc/stat's columns of the aggregate `cpu` line, in its order (guest time is inside user). */
export const CPU_MODES = [
  'user',
  'nice',
  'system',
  'idle',
  'iowait',
  'irq',
  'softirq',
  'steal',
] as const;
export type CpuMode = (typeof CPU_MODES)[number];

/**
 * Linux's USER_HZ, the unit of /proc/stat: 100 on every architecture the kernel exports it
 * for (node_exporter's procfs library assumes it too).
 */
const USER_HZ = 100;

/**
 * Seconds of CPU time since boot, all cores together, by mode, from the first `cpu` line. A
 * counter: what share of it was busy is a rate, which Prometheus takes over any window.
 */
export function parseProcStat(text: string): ReadonlyMap<CpuMode, number> | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line
    .trim()
    .split(/\s+/)
    .slice(1, 1 + CPU_MODES.length)
    .map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n) || n < 0)) return undefined;
  return new Map(fields.map((ticks, i) => [CPU_MODES[i] as CpuMode, ticks / USER_HZ]));
}

/** `oom_kill N` from /proc/vmstat (Linux 4.13+): kernel OOM kills since boot. */
export function parseVmstatOomKills(text: string): number | undefined {
  const match = /^oom_kill (\d+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

export interface Meminfo {
  readonly totalBytes: number;
  /** MemAvailable: absent before Linux 3.14. */
  readonly availableBytes: number | undefined;
}

/** MemTotal and MemAvailable from /proc/meminfo (values in kB). */
export function parseMeminfo(text: string): Meminfo | undefined {
  const kb = (key: string): number | undefined => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const totalBytes = kb('MemTotal');
  if (!totalBytes) return undefined;
  return { totalBytes, availableBytes: kb('MemAvailable') };
}
