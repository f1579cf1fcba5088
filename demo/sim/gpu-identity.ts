/**
 * The identities the fake GPUs carry (the fake nvidia-smi, the simulated dcgm-exporter and the
 * simulated kernel log agree on them): GPU i has this UUID and this PCI bus id.
 */
export const uuidOf = (i: number): string =>
  `GPU-${String(i).padStart(8, '0')}-1111-2222-3333-${String(i).padStart(12, '0')}`;

/** nvidia-smi's form, 00000000:1A:00.0. */
export const busOf = (i: number): string =>
  `00000000:${(0x10 + i).toString(16).toUpperCase()}:00.0`;

/** The kernel's form in NVRM lines, PCI:0000:1a:00. */
export const kernelBusOf = (i: number): string =>
  `PCI:0000:${(0x10 + i).toString(16).padStart(2, '0')}:00`;
