import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TICKS_PER_SECOND = 100;
const CPUS = 64;
const MEM_TOTAL_KB = 1_056_000_000; // about 1 TiB, as GPU servers have

/**
 * The three procfs files the host collector reads (stat, meminfo, vmstat) for a simulated
 * host, rewritten atomically as time passes; OOM kills are counted in vmstat's oom_kill as the
 * kernel counts them.
 */
export class SimulatedProcfs {
  private busy = 0;
  private idle = 0;
  private oomKills = 0;

  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
    this.write(0, 0.2);
  }

  /** `seconds` passed with the CPUs `load` busy (0 to 1). */
  advance(seconds: number, load: number): void {
    this.write(seconds, load);
  }

  oomKill(): void {
    this.oomKills += 1;
    this.write(0, 0);
  }

  private write(seconds: number, load: number): void {
    const ticks = seconds * TICKS_PER_SECOND * CPUS;
    this.busy += Math.round(ticks * load);
    this.idle += Math.round(ticks * (1 - load));
    const user = Math.round(this.busy * 0.8);
    const system = this.busy - user;
    this.replace('stat', `cpu  ${user} 0 ${system} ${this.idle} 0 0 0 0 0 0\n`);
    const available = Math.round(MEM_TOTAL_KB * (0.55 - 0.1 * load));
    this.replace(
      'meminfo',
      `MemTotal:       ${MEM_TOTAL_KB} kB\nMemFree:        ${Math.round(available * 0.8)} kB\nMemAvailable:   ${available} kB\n`,
    );
    this.replace('vmstat', `nr_free_pages 1000000\noom_kill ${this.oomKills}\n`);
  }

  private replace(name: string, text: string): void {
    const file = join(this.path, name);
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }
}
