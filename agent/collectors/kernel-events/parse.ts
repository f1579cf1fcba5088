import { normalizeBusId } from '../../shared/bus-id.js';

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

/** Probe-time loss: `NVRM: The NVIDIA GPU 0000:b3:00.0 (PCI ID: 10de:26b5) installed in this system has fallen off the bus ...`. */
const GPU_HEAD = new RegExp(`NVRM: The NVIDIA GPU (${BUS})\\b`);
const HEAD_FALLEN = new RegExp(`NVRM: The NVIDIA GPU (${BUS})\\b.*?fallen off the bus`);
/** A line that begins a message of its own, never a continuation of another. */
const STARTS_MESSAGE = /^NVRM: (?:Xid |GPU at |The NVIDIA GPU |GPU [0-9a-fA-F]{4})/;

/**
 * One kernel message, whatever prefix it carries (`[ 518.05]`, `kern :warn : 2025-...`,
 * a syslog stamp, or none from `dmesg --notime`): the event it reports, if any. The text goes
 * no further than this classification.
 */
export function parseKernelLine(line: string): KernelEvent | undefined {
  const head = HEAD_FALLEN.exec(line);
  if (head) {
    const pciBusId = normalizeBusId(head[1] ?? '');
    return pciBusId ? { kind: 'fallen_off_bus', pciBusId } : undefined;
  }
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

/** The stamps dmesg, journalctl and syslog put before a kernel message's text. */
const PREFIXES = [
  // syslog and `journalctl -k`: `Mar  7 19:30:42 p51 kernel: `
  /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: /,
  // journalctl --output=short-iso, rsyslog's RFC 3339 stamps
  /^\d{4}-\d\d-\d\dT[\d:.,]+(?:Z|[+-]\d\d:?\d\d)? \S+ kernel: /,
  // dmesg --decode: `kern  :warn  : `
  /^[a-z]+ *:[a-z]+ *: /,
  // dmesg --time-format iso
  /^\d{4}-\d\d-\d\dT[\d:.,]+(?:Z|[+-]\d\d:?\d\d) /,
  // dmesg: `[ 1843.308145] ` or, with -T, `[Sun Feb 23 16:24:18 2025] `
  /^\[[^\]]{1,40}\] /,
];
const MAX_MESSAGE_LINES = 8;
const MAX_MESSAGE_CHARS = 4096;

/** The message text of a log line: its stamps removed, and whether any were there. */
function bodyOf(line: string): { body: string; stamped: boolean } {
  let body = line;
  let stamped = false;
  for (let again = true; again;) {
    again = false;
    for (const prefix of PREFIXES) {
      const match = prefix.exec(body);
      if (match) {
        body = body.slice(match[0].length);
        stamped = again = true;
      }
    }
  }
  return { body, stamped };
}

/**
 * The kernel prints some messages over several lines, and every reader shows them its own
 * way: dmesg and `journalctl -k` indent the lines after the first, `dmesg --notime` and
 * `journalctl --output=cat` do not, syslog stamps each line as if it were a message of its own.
 * The driver's probe-time GPU loss is one of them, its bus id on the first line and its words
 * on the last:
 *
 *     [ 1843.308145] NVRM: The NVIDIA GPU 0000:b3:00.0
 *                    NVRM: (PCI ID: 10de:26b5) installed in this system has
 *                    NVRM: fallen off the bus and is not responding to commands.
 *
 * This joins a message's lines before matching: an indented line continues the message before
 * it, and so does an NVRM line after a GPU-loss head that has not yet said what happened. Each
 * message yields its event once, as soon as it is complete. Bounded: 8 lines, 4 KiB.
 */
export class KernelLogAssembler {
  private text = '';
  private lines = 0;
  private done = true;

  push(line: string): KernelEvent | undefined {
    const { body, stamped } = bodyOf(line);
    const indented = !stamped && /^\s+\S/.test(line);
    const text = body.trim();
    const continues =
      this.lines > 0 &&
      this.lines < MAX_MESSAGE_LINES &&
      (indented || (text.startsWith('NVRM: ') && !STARTS_MESSAGE.test(text) && this.openHead()));
    if (continues) {
      this.text = `${this.text} ${text.replace(/^NVRM: /, '')}`.slice(0, MAX_MESSAGE_CHARS);
      this.lines++;
    } else {
      this.text = text.slice(0, MAX_MESSAGE_CHARS);
      this.lines = 1;
      this.done = false;
    }
    if (this.done) return undefined;
    const event = parseKernelLine(this.text);
    if (event) this.done = true;
    return event;
  }

  /** The message so far is a GPU-loss head still waiting for its words. */
  private openHead(): boolean {
    return !this.done && GPU_HEAD.test(this.text);
  }
}
