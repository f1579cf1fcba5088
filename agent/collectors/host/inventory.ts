import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ProcessRunner } from '../../core/exec.js';
import type { SelfCommand } from '../../core/self-command.js';

/** What the host is, as `inferwatch_host_info` labels it: read at start and on reload. */
export interface HostInventory {
  readonly os: string;
  readonly os_version: string;
  readonly kernel: string;
  readonly arch: string;
  readonly system_vendor: string;
  readonly system_model: string;
  readonly cpu_model: string;
  readonly cpu_cores: number;
  readonly cpu_physical_cores: number;
}

/**
 * What systeminformation's osInfo(), system() and cpu() return, the fields read, and the DMI
 * names the kernel shows to every user (/sys/devices/virtual/dmi/id).
 */
export interface SystemInformation {
  readonly os: { distro?: string; release?: string; kernel?: string; arch?: string };
  readonly system: { manufacturer?: string; model?: string };
  readonly dmi?: { sys_vendor?: string; product_name?: string };
  readonly cpu: {
    manufacturer?: string;
    brand?: string;
    cores?: number;
    physicalCores?: number;
  };
}

/** A label value is at most this long: a firmware string is not a place for a novel. */
const MAX_LABEL = 128;

const label = (value: string | undefined) => (value ?? '').trim().slice(0, MAX_LABEL);

/**
 * Vendors fill DMI fields with placeholders ("To Be Filled By O.E.M.", "Default string"), and
 * systeminformation answers a model it could not read with its own ("Computer", "Virtual
 * machine", and "Docker Container" wherever /.dockerenv exists, over the server's real name):
 * none of them names the server.
 */
const NOT_A_NAME =
  /^(to be filled by o\.?e\.?m\.?|default string|system (manufacturer|product name)|not specified|none|n\/a|-|computer|virtual machine|docker container)$/i;

/**
 * The inventory from systeminformation's answers. The server's vendor and model come from the
 * kernel's DMI names first (readable by any user), then from what systeminformation found
 * (dmidecode, where the agent runs as root).
 */
export function inventoryFrom(si: SystemInformation): HostInventory {
  const name = (...candidates: (string | undefined)[]) =>
    label(candidates.map((c) => (c ?? '').trim()).find((c) => c !== '' && !NOT_A_NAME.test(c)));
  const cpuModel = [si.cpu.manufacturer, si.cpu.brand]
    .map((part) => (part ?? '').trim())
    .filter(Boolean)
    .join(' ');
  return {
    os: label(si.os.distro),
    os_version: label(si.os.release),
    kernel: label(si.os.kernel),
    arch: label(si.os.arch),
    system_vendor: name(si.dmi?.sys_vendor, si.system.manufacturer),
    system_model: name(si.dmi?.product_name, si.system.model),
    cpu_model: label(cpuModel),
    cpu_cores: si.cpu.cores ?? 0,
    cpu_physical_cores: si.cpu.physicalCores ?? 0,
  };
}

const DMI = '/sys/devices/virtual/dmi/id';

async function dmiName(file: string): Promise<string | undefined> {
  try {
    return (await readFile(join(DMI, file), 'utf8')).slice(0, 4 * MAX_LABEL);
  } catch {
    return undefined; // no DMI (a VM without it, a container without /sys): systeminformation's
  }
}

/** Reads the inventory in this process, with systeminformation: what `host-inventory` prints. */
export async function readHostInventory(): Promise<HostInventory> {
  const si = await import('systeminformation');
  const [os, system, cpu, sysVendor, productName] = await Promise.all([
    si.osInfo(),
    si.system(),
    si.cpu(),
    dmiName('sys_vendor'),
    dmiName('product_name'),
  ]);
  return inventoryFrom({
    os,
    system,
    cpu,
    dmi: { sys_vendor: sysVendor, product_name: productName },
  });
}

const text = z.string().max(MAX_LABEL);
const count = z.number().int().min(0).max(1_000_000);
const INVENTORY = z.strictObject({
  os: text,
  os_version: text,
  kernel: text,
  arch: text,
  system_vendor: text,
  system_model: text,
  cpu_model: text,
  cpu_cores: count,
  cpu_physical_cores: count,
});

/** The `host-inventory` command's output, checked: anything else is an error, not labels. */
export function parseHostInventory(json: string): HostInventory {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('host-inventory printed no JSON');
  }
  const parsed = INVENTORY.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `host-inventory printed an unexpected inventory: ${parsed.error.issues[0]?.path.join('.') || 'the whole'} ${parsed.error.issues[0]?.message ?? ''}`.trim(),
    );
  return Object.freeze(parsed.data);
}

/** The bounds of the child that reads the inventory: systeminformation spawns tools of its own. */
export const INVENTORY_TIMEOUT_MS = 15_000;
export const INVENTORY_MAX_BYTES = 64 * 1024;

/**
 * Reads the inventory in a child process (the agent run again as `host-inventory`), so the
 * agent never loads systeminformation: its code would stay resident (about 11 MiB) for an
 * answer needed once per start.
 */
export async function runHostInventory(
  runner: ProcessRunner,
  self: SelfCommand,
): Promise<HostInventory> {
  const result = await runner.run(self.command, [...self.args, 'host-inventory'], {
    timeoutMs: INVENTORY_TIMEOUT_MS,
    maxBytes: INVENTORY_MAX_BYTES,
    // Lowest priority: at start and on reload it must not slow the first samples.
    niceness: 19,
  });
  if (result.timedOut)
    throw new Error(`host-inventory gave no answer in ${INVENTORY_TIMEOUT_MS / 1000} s`);
  if (result.truncated) throw new Error(`host-inventory printed over ${INVENTORY_MAX_BYTES} bytes`);
  if (result.exitCode !== 0)
    throw new Error(
      `host-inventory exited with ${result.exitCode ?? result.signal}: ${result.stderr.trim().split('\n').at(-1)?.slice(0, 200) ?? ''}`,
    );
  return parseHostInventory(result.stdout);
}
