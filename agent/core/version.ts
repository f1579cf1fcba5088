import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The version, set as a string by the release build (deploy/release/build.ts). */
declare const INFERWATCH_VERSION: string | undefined;

/**
 * The package version: the release build's, or read from package.json (found from source and
 * from dist/ alike).
 */
export const VERSION: string = (() => {
  if (typeof INFERWATCH_VERSION === 'string') return INFERWATCH_VERSION;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'inferwatch' && pkg.version) return pkg.version;
    } catch {
      // Not here: look one folder up.
    }
    dir = dirname(dir);
  }
  return '0.0.0-unknown';
})();
