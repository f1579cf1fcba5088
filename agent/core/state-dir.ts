import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the agent keeps what must survive a restart or an upgrade: the configured directory;
 * else systemd's StateDirectory= ($STATE_DIRECTORY); else /var/lib/inferwatch for root; else
 * the user's XDG state directory.
 */
export function stateDir(
  configured: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  isRoot: boolean = process.getuid?.() === 0,
): string {
  if (configured) return configured;
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  if (isRoot) return '/var/lib/inferwatch';
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'inferwatch');
}
