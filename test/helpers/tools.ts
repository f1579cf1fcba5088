import { spawnSync } from 'node:child_process';

/**
 * Whether a command-line tool the bundle checks need (promtool, amtool) is installed. In CI
 * (`CI=true`) a missing one is a failure, never a skip.
 */
export function requireTool(name: string, aptPackage: string, skip: () => void): boolean {
  const probe = spawnSync(name, ['--version']);
  if (!probe.error) return true;
  if (process.env.CI === 'true')
    throw new Error(`${name} is required in CI (apt-get install ${aptPackage})`);
  console.warn(`SKIP: ${name} not installed`);
  skip();
  return false;
}
