/** Pure readers of the procfs text the process attribution needs. */

const LISTEN = '0A';

/**
 * Listening TCP sockets from /proc/net/tcp or /proc/net/tcp6, as port -> socket inodes.
 * A line: `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...`,
 * addresses as hex `ADDR:PORT`.
 */
export function parseListeningSockets(text: string, into = new Map<number, Set<string>>()) {
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN) continue;
    const local = fields[1] ?? '';
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const inode = fields[9] ?? '';
    if (!Number.isInteger(port) || !/^[1-9]\d*$/.test(inode)) continue;
    let inodes = into.get(port);
    if (!inodes) into.set(port, (inodes = new Set()));
    inodes.add(inode);
  }
  return into;
}

export interface ProcStat {
  readonly ppid: string;
  /** Clock ticks after boot; with the PID, it names one process even after the PID is reused. */
  readonly startTime: string;
}

/** /proc/PID/stat: the command name is in parentheses and may hold spaces and parentheses. */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // After the name: state(0) ppid(1) ... starttime(19).
  const ppid = fields[1];
  const startTime = fields[19];
  if (!ppid || !/^\d+$/.test(ppid) || !startTime || !/^\d+$/.test(startTime)) return undefined;
  return { ppid, startTime };
}

/** The inode of a `/proc/PID/fd/N` link that names a socket. */
export function socketInode(link: string): string | undefined {
  return /^socket:\[(\d+)\]$/.exec(link)?.[1];
}

/**
 * A process's cgroup membership, comparable between processes; undefined for the root cgroup,
 * which unrelated processes share (and which is all a process sees inside a cgroup namespace).
 */
export function cgroupKey(text: string): string | undefined {
  const key = text.trim();
  if (key === '' || key === '0::/') return undefined;
  return key;
}
