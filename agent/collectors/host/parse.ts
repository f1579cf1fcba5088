/** Aggregate CPU time from /proc/stat's `cpu` line, in USER_HZ ticks. */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/**
 * Reads the first `cpu` line: user nice system idle iowait irq softirq steal guest guest_nice.
 * Guest time is already inside user and nice, so it is not added again; iowait counts as idle.
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n) || n < 0)) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total };
}

/** Busy fraction between two readings, or undefined when no time passed (or the counters went back). */
export function cpuUtilization(previous: CpuTimes, current: CpuTimes): number | undefined {
  const total = current.total - previous.total;
  const busy = current.busy - previous.busy;
  if (total <= 0 || busy < 0) return undefined;
  return Math.min(1, busy / total);
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
