import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import si from 'systeminformation';
import {
  CollectorError,
  type Collector,
  type Emitter,
  type SourceStatus,
} from '../../core/collector.js';
import * as m from './metrics.js';
import { cpuUtilization, parseProcStat, parseVmstatOomKills, type CpuTimes } from './parse.js';

export interface HostOptions {
  readonly procPath: string;
  readonly filesystemPaths: readonly string[];
}

/** What the host collector reads, injected so tests need no real /proc. */
export interface HostSources {
  readText(path: string, signal: AbortSignal): Promise<string>;
  memory(): Promise<{ total: number; available: number }>;
  freeBytes(path: string): Promise<number>;
}

const PROC_MAX_BYTES = 1024 * 1024;

export const systemHostSources: HostSources = {
  async readText(path, signal) {
    const text = await readFile(path, { encoding: 'utf8', signal });
    return text.length > PROC_MAX_BYTES ? text.slice(0, PROC_MAX_BYTES) : text;
  },
  async memory() {
    const mem = await si.mem();
    return { total: mem.total, available: mem.available };
  },
  async freeBytes(path) {
    const stats = await statfs(path);
    return stats.bavail * stats.bsize;
  },
};

/**
 * CPU, memory, free space of configured paths, and kernel OOM kills. Memory comes from
 * systeminformation; CPU is read from /proc/stat directly because systeminformation's
 * currentLoad() runs `cat /proc/stat | grep cpu` through a shell, synchronously, on every call.
 */
export class HostCollector implements Collector {
  readonly name = 'host';
  readonly metrics = Object.values(m);
  private previousCpu: CpuTimes | undefined;
  private lastProblem: string | undefined;

  constructor(
    private readonly options: HostOptions,
    private readonly sources: HostSources = systemHostSources,
  ) {}

  async start(): Promise<void> {
    // A baseline, so the first scrape already has a CPU figure.
    try {
      this.previousCpu = parseProcStat(
        await this.sources.readText(this.proc('stat'), AbortSignal.timeout(5000)),
      );
    } catch {
      // The first scrape reports it.
    }
  }

  async collect(out: Emitter, signal: AbortSignal): Promise<void> {
    const problems: string[] = [];
    const [stat, vmstat, memory] = await Promise.allSettled([
      this.sources.readText(this.proc('stat'), signal),
      this.sources.readText(this.proc('vmstat'), signal),
      this.sources.memory(),
    ]);

    if (stat.status === 'fulfilled') {
      const cpu = parseProcStat(stat.value);
      if (cpu) {
        const ratio = this.previousCpu ? cpuUtilization(this.previousCpu, cpu) : undefined;
        if (ratio !== undefined) out.emit(m.HOST_CPU_UTILIZATION, {}, ratio);
        this.previousCpu = cpu;
      } else problems.push(`${this.proc('stat')} has no cpu line`);
    } else problems.push(`${this.proc('stat')}: ${message(stat.reason)}`);

    if (vmstat.status === 'fulfilled') {
      const kills = parseVmstatOomKills(vmstat.value);
      if (kills !== undefined) out.emit(m.HOST_OOM_KILLS, {}, kills);
    } else problems.push(`${this.proc('vmstat')}: ${message(vmstat.reason)}`);

    if (memory.status === 'fulfilled' && memory.value.total > 0) {
      const { total, available } = memory.value;
      out.emit(m.HOST_MEMORY_TOTAL, {}, total);
      out.emit(m.HOST_MEMORY_AVAILABLE, {}, available);
      out.emit(m.HOST_MEMORY_USED, {}, total - available);
    } else {
      problems.push(
        `memory: ${memory.status === 'rejected' ? message(memory.reason) : 'no reading'}`,
      );
    }

    const free = await Promise.allSettled(
      this.options.filesystemPaths.map((p) => this.sources.freeBytes(p)),
    );
    free.forEach((result, i) => {
      const path = this.options.filesystemPaths[i] ?? '';
      if (result.status === 'fulfilled') out.emit(m.HOST_FILESYSTEM_FREE, { path }, result.value);
      else problems.push(`filesystem ${path}: ${message(result.reason)}`);
    });

    this.lastProblem = problems.length ? problems.join('; ') : undefined;
    const sourceCount = 3 + this.options.filesystemPaths.length;
    if (problems.length >= sourceCount) {
      throw new CollectorError('read_failed', this.lastProblem ?? 'no host source answered');
    }
    if (this.lastProblem) out.degrade('read_failed', this.lastProblem);
  }

  status(): SourceStatus {
    return this.lastProblem
      ? { state: 'failing', detail: this.lastProblem }
      : {
          state: 'ok',
          detail: `CPU, memory, OOM kills; free space of ${this.options.filesystemPaths.join(', ') || 'no path'}`,
        };
  }

  private proc(name: string): string {
    return join(this.options.procPath, name);
  }
}

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
