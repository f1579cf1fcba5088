/** An npm package built into the executable, as its package.json names it. */
export interface BuiltIn {
  readonly name: string;
  readonly version: string;
  readonly license: string;
}

/** What the executable is made of and under which licences: NOTICE, and the Debian copyright. */
export function notice(version: string, nodeVersion: string, builtIn: readonly BuiltIn[]): string {
  const packages = [...builtIn]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => `  ${p.name} ${p.version} (${p.license})`)
    .join('\n');
  return `inferwatch ${version}: Apache License 2.0 (LICENSE; on Debian,
/usr/share/common-licenses/Apache-2.0).

The inferwatch executable is Node.js ${nodeVersion} (MIT License, and the licences of the
components Node.js bundles: https://github.com/nodejs/node/blob/${nodeVersion}/LICENSE) with
these npm packages built in, each under its own licence:
${packages}
`;
}

/** The README at the top of the release tarball: what is in it and the two install commands. */
export function tarballReadme(version: string): string {
  return `inferwatch ${version}

The observability agent for nodes that serve LLMs on NVIDIA GPUs, as one executable: it
needs no Node.js. It serves Prometheus metrics on :9500 (/metrics), its status (/) and the
runbooks of its alerts (/runbooks/).

  inferwatch             the agent (inferwatch --help)
  config.example.yaml    a config to start from (empty works: everything is auto-detected)
  inferwatch.service     the systemd unit, hardened, running /usr/local/bin/inferwatch
  rules/                 Prometheus alert and recording rules, an Alertmanager example
  dashboards/            Grafana dashboards
  runbooks/              one page per alert
  LICENSE, NOTICE        the licences

Run it as a service, as root:

  install -m 0755 inferwatch /usr/local/bin/ && install -D -m 0644 config.example.yaml /etc/inferwatch/config.yaml
  useradd --system --no-create-home --shell /usr/sbin/nologin inferwatch; install -m 0644 inferwatch.service /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now inferwatch
`;
}
