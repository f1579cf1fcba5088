/**
 * `npm run release`: what a node installs without Node.js, written to dist/release/.
 * - `inferwatch.cjs`: the agent in one file (esbuild), for any Node.js 20;
 * - `inferwatch`: a self-contained executable, Node's single executable application: the node
 *   binary that runs this build, with that file injected (postject);
 * - `inferwatch-<version>.linux-<arch>.tar.gz`: laid out as node_exporter's releases are;
 * - `inferwatch_<version>_<arch>.deb`: the Debian package (dpkg-deb).
 * Each tool runs with a time limit; a failing one stops the build with its output.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { debianPackageFiles } from './debian.js';
import { notice, tarballReadme, type BuiltIn } from './layout.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(ROOT, 'dist/release');
const run = promisify(execFile);
/** Where postject finds the blob in the node binary (Node's documented fuse). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface Release {
  readonly version: string;
  readonly singleFile: string;
  readonly executable: string;
  readonly tarball: string;
  readonly debian: string;
}

async function tool(file: string, args: readonly string[], cwd = ROOT): Promise<void> {
  try {
    await run(file, args, { cwd, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** The agent and its dependencies in one CommonJS file (what the executable runs), and the npm
 * packages in it. */
async function singleFile(version: string): Promise<{ file: string; builtIn: BuiltIn[] }> {
  const { build } = await import('esbuild');
  const require = createRequire(import.meta.url);
  const bcrypt = await readFile(require.resolve('bcryptjs'), 'utf8');
  const outfile = join(OUT, 'inferwatch.cjs');
  const result = await build({
    entryPoints: [join(ROOT, 'agent/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    minifySyntax: true,
    legalComments: 'none',
    define: {
      INFERWATCH_VERSION: JSON.stringify(version),
      INFERWATCH_BCRYPT_UMD: JSON.stringify(bcrypt),
      // ES modules bundled into CommonJS (node-cron's, the agent's own) keep a working
      // import.meta.url: the bundle's own file. What the agent would read beside it is given
      // by the two defines above.
      'import.meta.url': 'INFERWATCH_BUNDLE_URL',
    },
    banner: {
      js: 'var INFERWATCH_BUNDLE_URL = require("node:url").pathToFileURL(__filename).href;',
    },
    logLevel: 'silent',
    metafile: true,
  });
  const problems = [...result.errors, ...result.warnings].map((m) => m.text);
  if (problems.length > 0) throw new Error(`esbuild: ${problems.join('; ')}`);
  return { file: outfile, builtIn: await packagesIn(Object.keys(result.metafile.inputs)) };
}

/** The npm packages whose files went into the bundle, with their versions and licences. */
async function packagesIn(inputs: readonly string[]): Promise<BuiltIn[]> {
  const dirs = new Set(
    inputs.flatMap((path) => {
      const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
      return m ? [m[1] as string] : [];
    }),
  );
  return Promise.all(
    [...dirs].map(async (name) => {
      const pkg = JSON.parse(
        await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
      ) as { version: string; license?: string };
      return { name, version: pkg.version, license: pkg.license ?? 'see the package' };
    }),
  );
}

/** The node binary running this build, with the single file injected. */
async function executable(script: string): Promise<string> {
  const blob = join(OUT, 'sea-prep.blob');
  const config = join(OUT, 'sea-config.json');
  await writeFile(
    config,
    JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true }),
  );
  await tool(process.execPath, ['--experimental-sea-config', config]);
  const out = join(OUT, 'inferwatch');
  await rm(out, { force: true });
  await copyFile(process.execPath, out);
  await chmod(out, 0o755);
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  await tool(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
  await rm(blob);
  await rm(config);
  return out;
}

/** Debian's and Go's names for this machine's architecture. */
function architectures(): { debian: string; go: string } {
  const a = arch();
  if (a === 'x64') return { debian: 'amd64', go: 'amd64' };
  if (a === 'arm64') return { debian: 'arm64', go: 'arm64' };
  throw new Error(`no release for ${a}`);
}

/** What every install gets beside the binary: the bundle, the runbooks, the unit, the licence. */
async function shared(into: string): Promise<void> {
  await mkdir(join(into, 'rules'), { recursive: true });
  await copyFile(
    join(ROOT, 'alerts/inferwatch.rules.yml'),
    join(into, 'rules/inferwatch.rules.yml'),
  );
  await copyFile(
    join(ROOT, 'alerts/alertmanager.example.yml'),
    join(into, 'rules/alertmanager.example.yml'),
  );
  await mkdir(join(into, 'dashboards'), { recursive: true });
  for (const f of (await readdir(join(ROOT, 'dashboards'))).filter((f) => f.endsWith('.json')))
    await copyFile(join(ROOT, 'dashboards', f), join(into, 'dashboards', f));
  await cp(join(ROOT, 'runbooks'), join(into, 'runbooks'), { recursive: true });
}

/** node_exporter's layout: one folder named after the release, the binary at its top. */
async function tarball(
  binary: string,
  version: string,
  goArch: string,
  notes: string,
): Promise<string> {
  const name = `inferwatch-${version}.linux-${goArch}`;
  const dir = join(OUT, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await copyFile(binary, join(dir, 'inferwatch'));
  await chmod(join(dir, 'inferwatch'), 0o755);
  await copyFile(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
  await copyFile(join(ROOT, 'deploy/config.example.yaml'), join(dir, 'config.example.yaml'));
  const unit = await readFile(join(ROOT, 'deploy/systemd/inferwatch.service'), 'utf8');
  await writeFile(join(dir, 'inferwatch.service'), unitFor(unit, '/usr/local/bin/inferwatch'));
  await writeFile(join(dir, 'README'), tarballReadme(version));
  await writeFile(join(dir, 'NOTICE'), notes);
  await shared(dir);
  const file = `${name}.tar.gz`;
  await tool('tar', ['-czf', file, '--owner=0', '--group=0', name], OUT);
  await rm(dir, { recursive: true });
  return join(OUT, file);
}

/** The repository's unit, with ExecStart running the executable at `binary`. */
export function unitFor(unit: string, binary: string): string {
  const exec = /^ExecStart=\S+ \S+ run (.*)$/m;
  if (!exec.test(unit)) throw new Error('deploy/systemd/inferwatch.service: no ExecStart to adapt');
  return unit.replace(exec, `ExecStart=${binary} run $1`);
}

async function debian(
  binary: string,
  version: string,
  debArch: string,
  notes: string,
): Promise<string> {
  const dir = join(OUT, 'deb');
  await rm(dir, { recursive: true, force: true });
  const unit = unitFor(
    await readFile(join(ROOT, 'deploy/systemd/inferwatch.service'), 'utf8'),
    '/usr/bin/inferwatch',
  );
  const files = debianPackageFiles({
    version,
    arch: debArch,
    unit,
    config: await readFile(join(ROOT, 'deploy/config.example.yaml'), 'utf8'),
    copyright: notes,
  });
  for (const [path, { text, mode }] of files) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
    await chmod(join(dir, path), mode);
  }
  await mkdir(join(dir, 'usr/bin'), { recursive: true });
  await copyFile(binary, join(dir, 'usr/bin/inferwatch'));
  await chmod(join(dir, 'usr/bin/inferwatch'), 0o755);
  await shared(join(dir, 'usr/share/inferwatch'));
  const file = join(OUT, `inferwatch_${version}_${debArch}.deb`);
  await tool('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', dir, file]);
  await rm(dir, { recursive: true });
  return file;
}

/** Builds every artifact of a release. */
export async function buildRelease(): Promise<Release> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  const { debian: debArch, go } = architectures();
  await mkdir(OUT, { recursive: true });
  const { file: script, builtIn } = await singleFile(pkg.version);
  const binary = await executable(script);
  const notes = notice(pkg.version, process.version, builtIn);
  return {
    version: pkg.version,
    singleFile: script,
    executable: binary,
    tarball: await tarball(binary, pkg.version, go, notes),
    debian: await debian(binary, pkg.version, debArch, notes),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const release = await buildRelease();
    console.log(Object.values(release).slice(1).join('\n'));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
