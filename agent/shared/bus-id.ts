const BUS_ID = /^(?:PCI:|GPU)?([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})(?:\.[0-7])?$/;

/**
 * One key for the forms a PCI bus id takes: nvidia-smi's `00000000:91:00.0`, the kernel's
 * `PCI:0000:91:00`, and nvidia-smi's error text `GPU0000:91:00.0`.
 */
export function normalizeBusId(id: string): string | undefined {
  const match = BUS_ID.exec(id.trim());
  if (!match) return undefined;
  const [, domain = '', bus = '', device = ''] = match;
  return `${domain.slice(-4)}:${bus}:${device}`.toLowerCase();
}
