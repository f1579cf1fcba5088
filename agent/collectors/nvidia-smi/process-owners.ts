import { readdir, readlink } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { readSmallFile } from '../../core/small-file.js';
import { cgroupPlace, type Place, type PodView } from '../../shared/pod.js';
import type { RuntimeAddress } from '../../shared/runtime-endpoints.js';
import {
  cgroupKey,
  parseListeningSockets,
  parseStat,
  socketInode,
  type ProcStat,
} from './proc-parse.js';

export interface Owner {
  readonly runtime: string;
  readonly target: string;
}

/** The pod a GPU process runs in, as found for the process that started at startTime. */
interface Placed {
  readonly startTime: string;
  readonly place: Place | undefined;
}

/** Listening sockets are looked up again at most this often while a process is unexplained. */
const RESCAN_MS = 30_000;
const MAX_ANCESTORS = 32;
const NET_TCP_MAX_BYTES = 8 * 1024 * 1024;
const SMALL_MAX_BYTES = 64 * 1024;

interface Known {
  readonly startTime: string;
  readonly owner: Owner | undefined;
  /** The listener scan it was judged against; an unexplained process waits for the next. */
  readonly scan: number;
}

/**
 * Which runtime owns a GPU process, found through /proc: the runtime's port is a listening
 * socket (/proc/net/tcp), the socket an fd of some process (/proc/PID/fd), and the GPU process
 * is that process or a descendant of it (vLLM's engine core, Ollama's runner), or, failing
 * that, the only runtime listening from the same cgroup (TGI's shards beside its router, in
 * one container or systemd unit). Reading another user's fds needs that user, root or
 * CAP_SYS_PTRACE; a runtime in its own network namespace is not seen.
 */
export class ProcessOwners {
  private readonly known = new Map<string, Known>();
  private readonly placed = new Map<string, Placed>();
  private listeners = new Map<string, RuntimeAddress>();
  private listenerCgroups = new Map<string, string>();
  private scan = 0;
  private scannedAtMs = -Infinity;
  private scannedFor = '';
  private running: Promise<void> | undefined;
  /** Processes whose fds could not be read at the last full scan (another user's). */
  unreadable = 0;

  constructor(
    private readonly procPath: string,
    private readonly now: () => number,
  ) {}

  owner(pid: string): Owner | undefined {
    return this.known.get(pid)?.owner;
  }

  /** The pod a process runs in, in a cluster (the host's PID namespace shared with the agent). */
  place(pid: string): Place | undefined {
    return this.placed.get(pid)?.place;
  }

  /** Explains the given GPU processes; one refresh at a time. */
  refresh(
    pids: readonly string[],
    endpoints: readonly RuntimeAddress[],
    pods: ReadonlyMap<string, PodView> = new Map(),
  ): Promise<void> {
    // One read of each process's stat for both passes. Placed last: a pod's runtime owns its
    // processes whatever the listener scan concluded.
    const stats = new Map<string, ProcStat>();
    this.running ??= this.refreshNow(pids, endpoints, stats)
      .then(() => this.placeAll(pids, endpoints, pods, stats))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /**
   * Each process's pod, from its cgroup; a process in a runtime's pod is that runtime's (its
   * sockets are in the pod's network namespace, out of the listener scan's sight).
   */
  private async placeAll(
    pids: readonly string[],
    endpoints: readonly RuntimeAddress[],
    pods: ReadonlyMap<string, PodView>,
    stats: Map<string, ProcStat>,
  ): Promise<void> {
    const live = new Set(pids);
    for (const pid of this.placed.keys()) if (!live.has(pid)) this.placed.delete(pid);
    if (pods.size === 0) return;
    for (const pid of pids) {
      const stat = stats.get(pid) ?? (await this.stat(pid));
      if (!stat) continue;
      let place = this.placed.get(pid);
      if (place?.startTime !== stat.startTime || !place.place) {
        const text = await readSmallFile(join(this.procPath, pid, 'cgroup'), SMALL_MAX_BYTES).catch(
          () => '',
        );
        place = { startTime: stat.startTime, place: cgroupPlace(text, pods) };
        this.placed.set(pid, place);
      }
      const where = place.place;
      const runtime = where
        ? endpoints.find((e) => e.place?.namespace === where.namespace && e.place.pod === where.pod)
        : undefined;
      if (runtime)
        this.known.set(pid, {
          startTime: stat.startTime,
          owner: { runtime: runtime.runtime, target: runtime.target },
          scan: this.scan,
        });
    }
  }

  private async refreshNow(
    pids: readonly string[],
    endpoints: readonly RuntimeAddress[],
    stats: Map<string, ProcStat>,
  ): Promise<void> {
    const local = endpoints.filter((e) => isLocal(e.url));
    const signature = local
      .map((e) => `${e.runtime}/${e.target}@${e.url}`)
      .sort()
      .join(' ');
    if (signature !== this.scannedFor) this.known.clear();
    const live = new Set(pids);
    for (const pid of this.known.keys()) if (!live.has(pid)) this.known.delete(pid);
    if (local.length === 0) return;

    const now = this.now();
    const rescanDue = signature !== this.scannedFor || now - this.scannedAtMs >= RESCAN_MS;
    const pending: string[] = [];
    for (const pid of pids) {
      const stat = await this.stat(pid);
      if (!stat) continue;
      stats.set(pid, stat);
      const known = this.known.get(pid);
      const settled =
        known?.startTime === stat.startTime &&
        (known.owner !== undefined || (known.scan === this.scan && !rescanDue));
      if (!settled) pending.push(pid);
    }
    if (pending.length === 0) return;
    if (rescanDue) {
      await this.scanListeners(local, pending, stats);
      this.scannedFor = signature;
      this.scannedAtMs = now;
      this.scan++;
    }
    for (const pid of pending) {
      const owner = await this.resolve(pid, stats);
      this.known.set(pid, { startTime: stats.get(pid)!.startTime, owner, scan: this.scan });
    }
  }

  private async resolve(pid: string, stats: Map<string, ProcStat>): Promise<Owner | undefined> {
    let current = pid;
    for (let depth = 0; depth < MAX_ANCESTORS; depth++) {
      const endpoint = this.listeners.get(current);
      if (endpoint) return { runtime: endpoint.runtime, target: endpoint.target };
      const stat = stats.get(current) ?? (await this.stat(current));
      if (!stat || stat.ppid === '0') break;
      stats.set(current, stat);
      current = stat.ppid;
    }
    const cgroup = await this.cgroup(pid);
    if (!cgroup) return undefined;
    const owners = new Map<string, RuntimeAddress>();
    for (const [listener, endpoint] of this.listeners) {
      if (this.listenerCgroups.get(listener) === cgroup) owners.set(endpoint.target, endpoint);
    }
    const [only] = owners.values();
    return owners.size === 1 && only ? { runtime: only.runtime, target: only.target } : undefined;
  }

  /** Finds the processes holding the runtimes' listening sockets: the GPU processes' own line first. */
  private async scanListeners(
    local: readonly RuntimeAddress[],
    pending: readonly string[],
    stats: Map<string, ProcStat>,
  ): Promise<void> {
    this.listeners = new Map();
    this.listenerCgroups = new Map();
    const sockets = new Map<number, Set<string>>();
    for (const file of ['net/tcp', 'net/tcp6']) {
      const text = await readSmallFile(join(this.procPath, file), NET_TCP_MAX_BYTES).catch(
        () => '',
      );
      parseListeningSockets(text, sockets);
    }
    const wanted = new Map<string, RuntimeAddress>();
    for (const endpoint of local) {
      for (const inode of sockets.get(portOf(endpoint.url)) ?? []) wanted.set(inode, endpoint);
    }
    if (wanted.size === 0) return;
    const found = new Set<string>();
    const checked = new Set<string>();
    const check = async (pid: string): Promise<boolean> => {
      if (checked.has(pid)) return true;
      checked.add(pid);
      let fds: string[];
      try {
        fds = await readdir(join(this.procPath, pid, 'fd'));
      } catch {
        return false;
      }
      for (const fd of fds) {
        const link = await readlink(join(this.procPath, pid, 'fd', fd)).catch(() => '');
        const inode = socketInode(link);
        const endpoint = inode === undefined ? undefined : wanted.get(inode);
        if (!inode || !endpoint) continue;
        found.add(inode);
        this.listeners.set(pid, endpoint);
      }
      return true;
    };
    // The runtime is usually the GPU process or one of its ancestors: look there first.
    for (const pid of pending) {
      let current: string | undefined = pid;
      for (let depth = 0; current && current !== '0' && depth < MAX_ANCESTORS; depth++) {
        await check(current);
        const stat: ProcStat | undefined = stats.get(current) ?? (await this.stat(current));
        if (stat) stats.set(current, stat);
        current = stat?.ppid;
      }
    }
    this.unreadable = 0;
    if (found.size < wanted.size) {
      const all = await readdir(this.procPath).catch(() => [] as string[]);
      for (const pid of all) {
        if (!/^\d+$/.test(pid)) continue;
        if (!(await check(pid))) this.unreadable++;
        if (found.size === wanted.size) break;
      }
    }
    for (const pid of this.listeners.keys()) {
      const cgroup = await this.cgroup(pid);
      if (cgroup) this.listenerCgroups.set(pid, cgroup);
    }
  }

  private async stat(pid: string): Promise<ProcStat | undefined> {
    const text = await readSmallFile(join(this.procPath, pid, 'stat'), SMALL_MAX_BYTES).catch(
      () => undefined,
    );
    return text === undefined ? undefined : parseStat(text);
  }

  private async cgroup(pid: string): Promise<string | undefined> {
    const text = await readSmallFile(join(this.procPath, pid, 'cgroup'), SMALL_MAX_BYTES).catch(
      () => undefined,
    );
    return text === undefined ? undefined : cgroupKey(text);
  }
}

function portOf(url: string): number {
  const parsed = new URL(url);
  if (parsed.port) return Number(parsed.port);
  return parsed.protocol === 'https:' ? 443 : 80;
}

/** Whether a runtime's URL points at this machine, whose /proc can explain its processes. */
export function isLocal(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || host === '0.0.0.0' || host.startsWith('127.'))
    return true;
  if (host === hostname()) return true;
  return Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some((i) => i.address === host),
  );
}
