/** What the Debian package holds besides the binary and the bundle: its control files. */
export interface DebianInputs {
  readonly version: string;
  readonly arch: string;
  /** The systemd unit, its ExecStart on /usr/bin/inferwatch. */
  readonly unit: string;
  /** /etc/inferwatch/config.yaml as installed (a conffile: an upgrade keeps the user's). */
  readonly config: string;
  /** The copyright file's text. */
  readonly copyright: string;
}

export interface PackageFile {
  readonly text: string;
  readonly mode: number;
}

const UNIT = 'inferwatch.service';

/** Runs with systemd only where systemd runs (not in a container or a chroot). */
const SYSTEMD = '[ -d /run/systemd/system ]';

const POSTINST = `#!/bin/sh
# The agent's own user; nothing is enabled or started: that is the administrator's choice.
set -e
if [ "$1" = configure ]; then
  if ! getent passwd inferwatch >/dev/null; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \\
      --shell /usr/sbin/nologin --comment "inferwatch agent" inferwatch
  fi
  if ${SYSTEMD}; then systemctl daemon-reload >/dev/null || true; fi
  echo "inferwatch: installed, not started. Check the config, then start it:"
  echo "  inferwatch check-config /etc/inferwatch/config.yaml"
  echo "  systemctl enable --now ${UNIT}"
fi
exit 0
`;

const PRERM = `#!/bin/sh
# Removed or purged: stopped and disabled first. An upgrade leaves it running; postinst
# does not restart it, the administrator does (systemctl restart ${UNIT}).
set -e
if [ "$1" = remove ]; then
  if ${SYSTEMD}; then
    systemctl stop ${UNIT} >/dev/null 2>&1 || true
    systemctl disable ${UNIT} >/dev/null 2>&1 || true
  else
    rm -f /etc/systemd/system/multi-user.target.wants/${UNIT}
  fi
fi
exit 0
`;

const POSTRM = `#!/bin/sh
# Purged: the evaluation's state and the agent's user go too (dpkg removes the conffile).
set -e
if [ "$1" = purge ]; then
  rm -rf /var/lib/inferwatch
  rmdir /etc/inferwatch 2>/dev/null || true
  if getent passwd inferwatch >/dev/null; then userdel inferwatch >/dev/null 2>&1 || true; fi
  if getent group inferwatch >/dev/null; then groupdel inferwatch >/dev/null 2>&1 || true; fi
fi
if [ "$1" = remove ] || [ "$1" = purge ]; then
  if ${SYSTEMD}; then systemctl daemon-reload >/dev/null || true; fi
fi
exit 0
`;

function control(v: DebianInputs): string {
  return `Package: inferwatch
Version: ${v.version}
Architecture: ${v.arch}
Maintainer: inferwatch developers <inferwatch@localhost>
Section: admin
Priority: optional
Depends: passwd, util-linux
Description: observability agent for nodes that serve LLMs on NVIDIA GPUs
 Reads the GPUs (nvidia-smi, dcgm-exporter), the LLM runtimes' own metrics (vLLM,
 SGLang, TGI, llama.cpp, Ollama, Triton, LMDeploy) on one schema, kernel Xid and OOM
 events and CUDA out-of-memory errors in runtime logs, and runs a synthetic inference
 probe; serves it all to Prometheus on port 9500. Self-contained: no Node.js needed.
 Alert and recording rules, Grafana dashboards and runbooks: /usr/share/inferwatch.
`;
}

/** The package's files by path (relative to its root), the binary and the bundle aside. */
export function debianPackageFiles(v: DebianInputs): Map<string, PackageFile> {
  return new Map<string, PackageFile>([
    ['DEBIAN/control', { text: control(v), mode: 0o644 }],
    ['DEBIAN/conffiles', { text: '/etc/inferwatch/config.yaml\n', mode: 0o644 }],
    ['DEBIAN/postinst', { text: POSTINST, mode: 0o755 }],
    ['DEBIAN/prerm', { text: PRERM, mode: 0o755 }],
    ['DEBIAN/postrm', { text: POSTRM, mode: 0o755 }],
    [`lib/systemd/system/${UNIT}`, { text: v.unit, mode: 0o644 }],
    ['etc/inferwatch/config.yaml', { text: v.config, mode: 0o644 }],
    ['usr/share/doc/inferwatch/copyright', { text: v.copyright, mode: 0o644 }],
  ]);
}
