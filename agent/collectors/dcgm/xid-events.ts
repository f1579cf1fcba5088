import type { DcgmGpu } from './parse.js';

/**
 * Xid events from DCGM's two views of them, neither a counter: the windowed count
 * (DCGM_EXP_XID_ERRORS_COUNT, which falls as events age out) counts by its rises; without it,
 * the last-Xid gauge counts one event each time it changes. Both can miss events (one ageing
 * out as another arrives between reads; a repeat of the same code), so they are used only
 * where the kernel log, which sees every event, cannot be read.
 */
export class DcgmXidEvents {
  private readonly previous = new Map<
    string,
    { window: ReadonlyMap<number, number>; last: number | undefined }
  >();

  /** Events since this GPU's previous reading; none at its first (that is backlog). */
  events(gpu: DcgmGpu): Map<number, number> {
    const before = this.previous.get(gpu.uuid);
    this.previous.set(gpu.uuid, { window: gpu.xidWindow, last: gpu.lastXid });
    const events = new Map<number, number>();
    if (!before) return events;
    if (gpu.xidWindow.size > 0 || before.window.size > 0) {
      for (const [xid, count] of gpu.xidWindow) {
        const rise = count - (before.window.get(xid) ?? 0);
        if (rise > 0) events.set(xid, rise);
      }
    } else if (gpu.lastXid && gpu.lastXid !== before.last) {
      events.set(gpu.lastXid, 1);
    }
    return events;
  }

  forget(uuid?: string): void {
    if (uuid === undefined) this.previous.clear();
    else this.previous.delete(uuid);
  }
}
