/**
 * The release as a node installs it (`npm run release`): built once, then the executable run
 * with no Node.js on PATH, the tarball's layout, the Debian package installed, verified,
 * upgraded, removed and purged, and `npm install -g` from the packed package. In CI every tool
 * these need is required, and the package is installed for real (CI runs as root).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentsKilledAfterEach, eventually, tempDir } from '../helpers/agent-process.js';
import { ROOT } from '../helpers/fixtures.js';
import { requireTool } from '../helpers/tools.js';

const OUT = join(ROOT, 'dist/release');
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
const EXECUTABLE = join(OUT, 'inferwatch');
/** A PATH with nothing on it: no Node.js, no nvidia-smi, no dmesg. */
const EMPTY_PATH = tempDir();
const CI = process.env.CI === 'true';
/** Go's and Debian's name for this machine (the release is built for the machine building it). */
const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

function withoutNode(file: string, args: readonly string[], cwd = EMPTY_PATH) {
  return spawnSync(file, args, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: EMPTY_PATH, HOME: EMPTY_PATH },
  });
}

/** The example config with each commented example line made live. */
function uncommented(example: string): string {
  return example
    .split('\n')
    .filter((line) => /^# ?( *)(- |[a-z_]+:)/.test(line))
    .map((line) => line.replace(/^# ?/, ''))
    .join('\n');
}

/** Whether the release was built: without tar or dpkg-deb (outside CI), every test skips. */
let built = false;

beforeAll(() => {
  for (const [tool, pkg] of [
    ['tar', 'tar'],
    ['dpkg-deb', 'dpkg'],
  ] as const)
    if (spawnSync(tool, ['--version']).error) {
      if (CI) throw new Error(`${tool} is required in CI (apt-get install ${pkg})`);
      console.warn(`SKIP: ${tool} not installed`);
      return;
    }
  execFileSync(process.execPath, [join(ROOT, 'dist/deploy/release/build.js')], {
    cwd: ROOT,
    stdio: 'pipe',
    timeout: 280_000,
  });
  built = true;
}, 300_000);

describe('the self-contained executable', () => {
  const agent = agentsKilledAfterEach();

  it('runs --version, check-config and once with no Node.js on PATH', (ctx) => {
    if (!built) return ctx.skip();
    const version = withoutNode(EXECUTABLE, ['--version']);
    expect([version.status, version.stdout.trim()]).toEqual([0, `inferwatch ${VERSION}`]);

    const example = join(ROOT, 'deploy/config.example.yaml');
    const good = withoutNode(EXECUTABLE, ['check-config', example]);
    expect([good.status, good.stdout.trim()]).toEqual([0, `${example}: valid`]);
    // Its commented examples are valid too (the web config they name made real).
    const web = join(EMPTY_PATH, 'web.yml');
    writeFileSync(web, 'http_server_config:\n  headers:\n    X-Frame-Options: deny\n');
    const live = join(EMPTY_PATH, 'live.yaml');
    writeFileSync(
      live,
      uncommented(readFileSync(example, 'utf8')).replace('/etc/inferwatch/web.yml', web),
    );
    expect(readFileSync(live, 'utf8')).toContain('filesystem_paths');
    expect(readFileSync(live, 'utf8')).toContain(`config_file: ${web}`);
    expect(withoutNode(EXECUTABLE, ['check-config', live]).status).toBe(0);
    const bad = join(EMPTY_PATH, 'bad.yaml');
    writeFileSync(bad, 'web: { max_requests: 0 }\n');
    const refused = withoutNode(EXECUTABLE, ['check-config', bad]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('web.max_requests');

    const once = withoutNode(EXECUTABLE, ['once']);
    expect(once.status).toBe(0);
    expect(once.stdout).toContain(`inferwatch_build_info{version="${VERSION}"`);
    // Nothing to read GPUs with on this PATH: said so, and the rest is served.
    expect(once.stdout).toContain('inferwatch_collector_success{collector="nvidia_smi"} 0');
    expect(once.stdout).toContain('inferwatch_collector_success{collector="host"} 1');
    expect(once.stderr).toContain('nvidia-smi: not found on PATH');
    // The host inventory: the executable runs itself as `host-inventory`, systeminformation
    // bundled inside.
    expect(once.stdout).toMatch(/^inferwatch_host_info\{.*kernel="[^"]+".*\} 1$/m);
    const inventory = withoutNode(EXECUTABLE, ['host-inventory']);
    expect(inventory.status).toBe(0);
    expect(JSON.parse(inventory.stdout)).toMatchObject({ kernel: release(), arch: arch() });
  });

  it('serves /metrics behind basic auth (bcrypt in its worker thread) and the runbooks', async (ctx) => {
    if (!built) return ctx.skip();
    const dir = tempDir();
    const web = join(dir, 'web.yml');
    writeFileSync(web, `basic_auth_users:\n  prometheus: "${bcrypt.hashSync('s3cret', 4)}"\n`);
    const a = await agent({
      executable: EXECUTABLE,
      config: `web: { config_file: ${web} }\n`,
      env: { PATH: EMPTY_PATH },
    });
    const auth = `Basic ${Buffer.from('prometheus:s3cret').toString('base64')}`;
    expect((await a.get('/metrics')).status).toBe(401);
    const metrics = await a.get('/metrics', { authorization: auth });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('inferwatch_web_info{scheme="http"} 1');
    const runbook = await a.get('/runbooks/LLMNodeGPUXidFatal.md');
    expect(runbook.status).toBe(200);
    expect(await runbook.text()).toContain('<h1>LLMNodeGPUXidFatal</h1>');
  });
});

describe('the release tarball', () => {
  it("is laid out as node_exporter's, with the bundle, the runbooks and a unit for its binary", (ctx) => {
    if (!built) return ctx.skip();
    const name = `inferwatch-${VERSION}.linux-${ARCH}`;
    const into = tempDir();
    execFileSync('tar', ['-xzf', join(OUT, `${name}.tar.gz`), '-C', into]);
    expect(readdirSync(into)).toEqual([name]);
    const top = join(into, name);
    expect(readdirSync(top).sort()).toEqual(
      [
        'LICENSE',
        'NOTICE',
        'README',
        'config.example.yaml',
        'dashboards',
        'inferwatch',
        'inferwatch.service',
        'rules',
        'runbooks',
      ].sort(),
    );
    expect(withoutNode(join(top, 'inferwatch'), ['--version']).stdout.trim()).toBe(
      `inferwatch ${VERSION}`,
    );
    expect(readFileSync(join(top, 'inferwatch.service'), 'utf8')).toContain(
      'ExecStart=/usr/local/bin/inferwatch run --config /etc/inferwatch/config.yaml',
    );
    expect(readdirSync(join(top, 'rules')).sort()).toEqual([
      'alertmanager.example.yml',
      'inferwatch.rules.yml',
    ]);
    expect(readdirSync(join(top, 'dashboards'))).toHaveLength(5);
    expect(readdirSync(join(top, 'runbooks')).sort()).toEqual(
      readdirSync(join(ROOT, 'runbooks')).sort(),
    );
    expect(readFileSync(join(top, 'LICENSE'), 'utf8')).toContain('Apache License');
    // What is built in, and under which licences.
    const notice = readFileSync(join(top, 'NOTICE'), 'utf8');
    expect(notice).toContain(`Node.js ${process.version}`);
    expect(notice).toMatch(/ {2}prom-client \d+\.\d+\.\d+ \(Apache-2\.0\)/);
    expect(notice).toMatch(/ {2}zod \d+\.\d+\.\d+ \(MIT\)/);
  });
});

describe('the Debian package', () => {
  const deb = join(OUT, `inferwatch_${VERSION}_${ARCH}.deb`);
  /** As root: directly, or through sudo where the tests run as a user who has it. */
  const root = (file: string, ...args: string[]) =>
    process.getuid?.() === 0
      ? spawnSync(file, args, { encoding: 'utf8', timeout: 120_000 })
      : spawnSync('sudo', ['-n', file, ...args], { encoding: 'utf8', timeout: 120_000 });
  const dpkg = (...args: string[]) => root('dpkg', ...args);

  it('declares itself, its conffile and what it installs', (ctx) => {
    if (!built) return ctx.skip();
    const info = execFileSync('dpkg-deb', ['--field', deb], { encoding: 'utf8' });
    expect(info).toContain('Package: inferwatch');
    expect(info).toContain(`Version: ${VERSION}`);
    const contents = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8' });
    for (const path of [
      './usr/bin/inferwatch',
      './lib/systemd/system/inferwatch.service',
      './etc/inferwatch/config.yaml',
      './usr/share/inferwatch/rules/inferwatch.rules.yml',
      './usr/share/inferwatch/runbooks/LLMNodeGPULost.md',
      './usr/share/doc/inferwatch/copyright',
    ])
      expect(contents, path).toContain(path);
    const control = tempDir();
    execFileSync('dpkg-deb', ['--control', deb, control]);
    expect(readFileSync(join(control, 'conffiles'), 'utf8')).toBe('/etc/inferwatch/config.yaml\n');
    // Nothing enabled or started by the package itself.
    expect(readFileSync(join(control, 'postinst'), 'utf8')).not.toMatch(
      /^\s*systemctl (enable|start)/m,
    );
  });

  it('installs and starts nothing, its unit verifies, its command serves as its user, keeps a changed config on upgrade, removes and purges cleanly', async (ctx) => {
    if (!built) return ctx.skip();
    if (root('dpkg', '--version').status !== 0) {
      if (CI) throw new Error('CI installs the package: it needs dpkg, and root or sudo');
      return ctx.skip();
    }
    // Never over an inferwatch this machine really runs.
    if (dpkg('-s', 'inferwatch').status === 0) {
      if (CI) throw new Error('inferwatch is already installed on the CI machine');
      return ctx.skip();
    }
    if (!requireTool('systemd-analyze', 'systemd', () => ctx.skip())) return;
    try {
      const installed = dpkg('-i', deb);
      expect(installed.status, installed.stderr).toBe(0);
      expect(installed.stdout).toContain('installed, not started');
      expect(withoutNode('/usr/bin/inferwatch', ['--version']).stdout.trim()).toBe(
        `inferwatch ${VERSION}`,
      );
      expect(execFileSync('getent', ['passwd', 'inferwatch'], { encoding: 'utf8' })).toContain(
        '/usr/sbin/nologin',
      );
      const verify = spawnSync(
        'systemd-analyze',
        ['verify', '/lib/systemd/system/inferwatch.service'],
        { encoding: 'utf8' },
      );
      expect([verify.status, verify.stderr]).toEqual([0, '']);
      const wants = '/etc/systemd/system/multi-user.target.wants';
      expect(existsSync(join(wants, 'inferwatch.service'))).toBe(false);
      expect(
        withoutNode('/usr/bin/inferwatch', ['check-config', '/etc/inferwatch/config.yaml']).status,
      ).toBe(0);
      // The unit's command as the unit runs it (this CI machine runs no systemd): the installed
      // executable, as the package's user, with the installed config, serves /metrics.
      const run = tempDir();
      chmodSync(run, 0o777);
      const ready = join(run, 'ready');
      const service = spawn(
        process.getuid?.() === 0 ? '/usr/bin/setpriv' : 'sudo',
        [
          ...(process.getuid?.() === 0 ? [] : ['-n', '/usr/bin/setpriv']),
          '--reuid=inferwatch',
          '--regid=inferwatch',
          '--init-groups',
          '/usr/bin/inferwatch',
          'run',
          '--config',
          '/etc/inferwatch/config.yaml',
          '--listen',
          '127.0.0.1:0',
          '--ready-file',
          ready,
        ],
        { stdio: 'ignore', env: { PATH: EMPTY_PATH, STATE_DIRECTORY: run } },
      );
      try {
        const address = await eventually(
          async () => (existsSync(ready) ? readFileSync(ready, 'utf8').trim() : undefined),
          20_000,
          'the installed agent serving',
        );
        const metrics = await fetch(`http://${address}/metrics`, {
          signal: AbortSignal.timeout(5000),
        });
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toContain(`inferwatch_build_info{version="${VERSION}"`);
      } finally {
        // Gone before the purge, which removes its user.
        const exited = new Promise((resolve) => service.once('exit', resolve));
        if (service.exitCode === null && service.signalCode === null) {
          service.kill('SIGTERM');
          await exited;
        }
      }

      // An upgrade (here the same version again) keeps the administrator's config.
      const mine = 'listen: 127.0.0.1:9599\n';
      expect(root('sh', '-c', `printf '${mine}' > /etc/inferwatch/config.yaml`).status).toBe(0);
      expect(dpkg('-i', deb).status).toBe(0);
      expect(readFileSync('/etc/inferwatch/config.yaml', 'utf8')).toBe(mine);

      // Removed: the binary goes, the config stays; purged: nothing is left, the user neither.
      expect(dpkg('-r', 'inferwatch').status).toBe(0);
      expect(spawnSync('/usr/bin/inferwatch', ['--version']).error).toBeDefined();
      expect(readdirSync('/etc/inferwatch')).toEqual(['config.yaml']);
      expect(dpkg('-P', 'inferwatch').status).toBe(0);
      expect(spawnSync('ls', ['/etc/inferwatch']).status).not.toBe(0);
      expect(spawnSync('getent', ['passwd', 'inferwatch']).status).not.toBe(0);
      expect(dpkg('-s', 'inferwatch').status).not.toBe(0);
    } finally {
      dpkg('-P', 'inferwatch');
    }
  }, 120_000);
});

describe('npm install -g', () => {
  it('from the packed package puts inferwatch on PATH', (ctx) => {
    if (!built) return ctx.skip();
    const dir = tempDir();
    // What `npm test` built: packing builds again (prepack) only where no one did.
    execFileSync('npm', ['pack', ROOT, '--ignore-scripts', '--pack-destination', dir], {
      stdio: 'pipe',
    });
    const prefix = join(dir, 'prefix');
    execFileSync(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(dir, `inferwatch-${VERSION}.tgz`),
      ],
      { stdio: 'pipe', timeout: 120_000 },
    );
    const version = spawnSync('inferwatch', ['--version'], {
      encoding: 'utf8',
      env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}` },
    });
    expect([version.status, version.stdout.trim()]).toEqual([0, `inferwatch ${VERSION}`]);
  }, 180_000);
});

/**
 * deploy/Dockerfile built by a real OCI builder (podman, from Debian) and the agent run from
 * the image's file system. No registry is reachable here, so its base, Debian bookworm-slim,
 * is stood in for by this machine's own Debian bookworm files the image uses (the C and C++
 * runtime the executable links, dmesg and its libraries, the user database), imported under
 * the base's name in a private image store. The image is not run by podman: this machine's
 * sandbox refuses the OCI runtime's setrlimit calls; it is run from its exported file system
 * instead, chrooted, as the image's user, in its own PID namespace with its own /proc.
 */
describe('the container image', () => {
  it('builds from deploy/Dockerfile with podman, tagged with the version, and runs as its user with no Node.js', async (ctx) => {
    if (!built) return ctx.skip();
    if (!requireTool('podman', 'podman', () => ctx.skip())) return;
    if (process.getuid?.() !== 0) {
      if (CI) throw new Error('the image test needs root in CI (chroot)');
      return ctx.skip();
    }
    const dir = tempDir();
    const store = [
      '--root',
      join(dir, 'store'),
      '--runroot',
      join(dir, 'run'),
      '--storage-driver',
      'vfs',
    ];
    const podman = (args: string[]) =>
      execFileSync('podman', [...store, ...args], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 512 * 1024 * 1024,
        timeout: 120_000,
      });

    // The stand-in base: what the image takes from it, from this machine's bookworm.
    const base = join(dir, 'base');
    execFileSync('mkdir', ['-p', base]);
    const libraries = (file: string) =>
      execFileSync('ldd', [file], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
    const dmesg = execFileSync('sh', ['-c', 'command -v dmesg'], { encoding: 'utf8' }).trim();
    for (const file of new Set([
      ...libraries(EXECUTABLE),
      ...libraries(dmesg),
      dmesg,
      '/etc/passwd',
      '/etc/group',
    ]))
      execFileSync('cp', ['-L', '--parents', file, base]);
    execFileSync('install', ['-d', '-m', '1777', join(base, 'tmp')]);
    execFileSync('tar', ['-C', base, '-cf', join(dir, 'base.tar'), '.']);
    podman(['import', join(dir, 'base.tar'), 'docker.io/library/debian:bookworm-slim']);

    const tag = `localhost/inferwatch:${VERSION}`;
    podman([
      'build',
      '--isolation',
      'chroot',
      '--pull=never',
      '-f',
      'deploy/Dockerfile',
      '-t',
      tag,
      '.',
    ]);
    const config = JSON.parse(
      podman(['image', 'inspect', tag, '--format', '{{json .Config}}']).toString('utf8'),
    ) as {
      User: string;
      Env: string[];
      Entrypoint: string[];
      Cmd: string[];
      ExposedPorts: Record<string, unknown>;
    };
    expect(config).toMatchObject({
      User: '65534:65534',
      Entrypoint: ['/usr/local/bin/inferwatch'],
      Cmd: ['run'],
      ExposedPorts: { '9500/tcp': {} },
    });

    // Its file system: the executable as released, and no Node.js beside it.
    const rootfs = join(dir, 'rootfs');
    execFileSync('mkdir', ['-p', join(rootfs, 'proc')]);
    const id = podman(['create', tag]).toString('utf8').trim();
    podman(['export', '-o', join(dir, 'image.tar'), id]);
    execFileSync('tar', ['-x', '-C', rootfs, '-f', join(dir, 'image.tar')]);
    expect(
      readFileSync(join(rootfs, 'usr/local/bin/inferwatch')).equals(readFileSync(EXECUTABLE)),
    ).toBe(true);
    const files = readdirSync(rootfs, { recursive: true }) as string[];
    expect(files.filter((f) => /(^|\/)(node|node_modules)$/.test(f))).toEqual([]);

    // Run as the image runs it: its entrypoint, command, user and environment, with the
    // devices an OCI runtime gives every container, its own /proc and PID namespace.
    execFileSync('mkdir', ['-p', join(rootfs, 'dev')]);
    const run = [
      'root=$1 user=$2; shift 2',
      'for d in null zero full random urandom tty; do touch "$root/dev/$d" && mount --bind "/dev/$d" "$root/dev/$d" || exit 1; done',
      'mount -t proc proc "$root/proc" || exit 1',
      'exec chroot --userspec="$user" "$root" "$@"',
    ].join('\n');
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--pid',
        '--fork',
        'sh',
        '-c',
        run,
        'oci',
        rootfs,
        config.User,
        ...config.Entrypoint,
        ...config.Cmd,
        '--listen',
        '127.0.0.1:0',
        '--ready-file',
        '/tmp/ready',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        // Its own process group: unshare waits out a SIGTERM, the agent under it must get it.
        detached: true,
        env: Object.fromEntries(
          config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
        ),
      },
    );
    try {
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const address = await eventually(() => {
        const ready = join(rootfs, 'tmp/ready');
        if (!existsSync(ready)) throw new Error(`not serving yet: ${stderr.slice(-500)}`);
        return readFileSync(ready, 'utf8').trim();
      }, 15_000);
      const metrics = await (
        await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5000) })
      ).text();
      expect(metrics).toContain(`inferwatch_build_info{version="${VERSION}"`);
      // dmesg is in the image: refused to the image's unprivileged user (the DaemonSet runs
      // it privileged, or with CAP_SYSLOG), never missing.
      expect(metrics).toContain(
        'inferwatch_source_errors_total{collector="kernel_events",reason="permission_denied"}',
      );
      expect(metrics).not.toMatch(/collector="kernel_events",reason="not_found"/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(-(child.pid as number), 'SIGTERM');
        await exited;
      }
    }
  }, 240_000);
});
