import { normalizeBusId } from '../gpu-inventory.js';

export type KernelEvent =
  | { readonly kind: 'xid'; readonly pciBusId: string; readonly xid: number }
  | { readonly kind: 'fallen_off_bus'; readonly pciBusId: string }
  | { readonly kind: 'gpu_uuid'; readonly pciBusId: string; readonly uuid: string }
  | { readonly kind: 'oom_kill'; readonly pid: string; readonly process: string };

const BUS = '(?:PCI:)?[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(?:\\.[0-7])?';
// Older drivers print `NVRM: Xid (0000:03:00): 14, ...`, without `PCI:`.
const XID = new RegExp(`NVRM: Xid \\((${BUS})\\): (\\d+),`);
const FALLEN = new RegExp(`NVRM: GPU (?:at )?(${BUS}): GPU has fallen off the bus`);
const GPU_AT = new RegExp(`NVRM: GPU at (${BUS}): (GPU-[0-9a-fA-F-]+)`);
// `%s: Killed process %d (%s) total-vm:...`; the name may itself hold parentheses.
const OOM_VICTIM = /Killed process (\d+) \((.*?)\) total-vm:/;

/**
 * One kernel log line, whatever prefix it carries (`[ 518.05]`, `kern :warn : 2025-...`,
 * a syslog stamp, or none from `dmesg --notime`): the event it reports, if any. The line's
 * text goes no further than this classification.
 */
export function parseKernelLine(line: string): KernelEvent | undefined {
  const xid = XID.exec(line);
  if (xid) {
    const pciBusId = normalizeBusId(xid[1] ?? '');
    return pciBusId ? { kind: 'xid', pciBusId, xid: Number(xid[2]) } : undefined;
  }
  const fallen = FALLEN.exec(line);
  if (fallen) {
    const pciBusId = normalizeBusId(fallen[1] ?? '');
    return pciBusId ? { kind: 'fallen_off_bus', pciBusId } : undefined;
  }
  const at = GPU_AT.exec(line);
  if (at) {
    const pciBusId = normalizeBusId(at[1] ?? '');
    return pciBusId ? { kind: 'gpu_uuid', pciBusId, uuid: at[2] ?? '' } : undefined;
  }
  const oom = OOM_VICTIM.exec(line);
  if (oom) return { kind: 'oom_kill', pid: oom[1] ?? '', process: oom[2] ?? '' };
  return undefined;
}

/**
 * The Xid codes that page (NVIDIA's catalogue: reset the GPU, reboot, drain): their series
 * exist at 0 for every GPU from the start, so `increase()` sees the first one.
 */
export const PAGED_XIDS = [
  46, 48, 62, 64, 74, 79, 95, 109, 110, 119, 120, 136, 140, 143, 144, 145, 146, 147, 148, 149, 150,
  151, 154, 155, 156, 158,
] as const;
