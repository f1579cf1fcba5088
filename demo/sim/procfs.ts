import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TICKS_PER_SECOND = 100;
const CPUS = 64;
const MEM_TOTAL_KB = 1_056_000_000; // about 1 TiB, as GPU servers have

/** A simulated process: its PID, its name and the systemd unit (cgroup) it runs in. */
export interface SimulatedProcess {
  readonly pid: number;
  readonly comm: string;
  readonly unit: string;
}

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

  /**
   * A runtime's processes as procfs shows them: its server listening on `port` (net/tcp and a
   * socket fd), and its GPU workers as its children, all in one cgroup. The agent finds which
   * runtime owns a GPU process through exactly these files.
   */
  runtime(server: SimulatedProcess, workers: readonly SimulatedProcess[], port: number): void {
    const inode = 70_000 + server.pid;
    mkdirSync(join(this.path, 'net'), { recursive: true });
    this.listening.set(port, inode);
    const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
    this.replace(
      'net/tcp',
      [
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
        ...[...this.listening].map(
          ([p, i], n) =>
            `${String(n).padStart(4)}: 0100007F:${hex(p, 4)} 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 ${i} 1 0000000000000000 100 0 0 10 0`,
        ),
      ].join('\n') + '\n',
    );
    for (const [process, parent] of [
      [server, 1],
      ...workers.map((w) => [w, server.pid] as const),
    ] as const) {
      const dir = join(this.path, String(process.pid));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, 'fd'), { recursive: true });
      // After the name: state, ppid, then 17 fields to the start time (field 22 of stat).
      const fields = [
        'S',
        String(parent),
        ...Array<string>(17).fill('0'),
        String(1000 + process.pid),
      ];
      writeFileSync(join(dir, 'stat'), `${process.pid} (${process.comm}) ${fields.join(' ')}\n`);
      writeFileSync(join(dir, 'cgroup'), `0::/system.slice/${process.unit}\n`);
      if (process === server) symlinkSync(`socket:[${inode}]`, join(dir, 'fd', '3'));
    }
  }

  private readonly listening = new Map<number, number>();

  private replace(name: string, text: string): void {
    const file = join(this.path, name);
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }
}
