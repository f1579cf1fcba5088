import { execFileSync, spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../agent/cli.js';
import { ConfigError } from '../../agent/config/load.js';
import { createLogger } from '../../agent/core/logger.js';
import { MetricsServer } from '../../agent/server/http.js';
import { loadWebConfig } from '../../agent/server/web-config.js';
import { agentsKilledAfterEach, FAST_CONFIG, MAIN, tempDir } from '../helpers/agent-process.js';
import { issueCertificate, makeServerCertificates } from '../helpers/certs.js';
import { requireTool } from '../helpers/tools.js';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl. */
let dir = '';
let hasOpenssl = true;
beforeAll(() => {
  dir = tempDir();
  hasOpenssl = makeServerCertificates(dir);
  if (!hasOpenssl) return;
  issueCertificate(dir, 'client', '/CN=prometheus');
});

const read = (f: string) => execFileSync('cat', [join(dir, f)], { encoding: 'utf8' });
const HASH = bcrypt.hashSync('s3cret', 4);

function webConfig(text: string): string {
  const path = join(dir, `web-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(path, text);
  return path;
}

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(configText: string): Promise<number> {
  const security = await loadWebConfig(webConfig(configText));
  const server = new MetricsServer(
    {
      metrics: async () => Buffer.from('up 1\n'),
      contentType: 'text/plain; version=0.0.4',
      statuses: () => [],
    },
    { host: '127.0.0.1', port: 0, maxRequests: 10, version: 'test', security },
    createLogger('error', { write: () => undefined }),
  );
  servers.push(server);
  return server.listen();
}

function get(
  port: number,
  path: string,
  options: { auth?: string; cert?: boolean; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: read('ca.pem'),
        ...(options.auth ? { auth: options.auth } : {}),
        ...(options.cert ? { cert: read('client.pem'), key: read('client.key') } : {}),
        ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('TLS and basic auth, exporter-toolkit style', () => {
  const tls = () =>
    `tls_server_config:\n  cert_file: ${join(dir, 'server.pem')}\n  key_file: ${join(dir, 'server.key')}\n`;

  it('serves over TLS; /healthz without credentials; everything else 401 until the right ones', async (ctx) => {
    if (!hasOpenssl) return ctx.skip();
    const port = await serve(
      `${tls()}basic_auth_users:\n  prometheus: "${HASH}"\nhttp_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n`,
    );
    expect((await get(port, '/healthz')).status).toBe(200);
    const denied = await get(port, '/metrics');
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toMatch(/^Basic realm="inferwatch"/);
    expect((await get(port, '/metrics', { auth: 'prometheus:wrong' })).status).toBe(401);
    expect((await get(port, '/metrics', { auth: 'nobody:s3cret' })).status).toBe(401);
    expect((await get(port, '/probe?target=x', { auth: 'prometheus:wrong' })).status).toBe(401);
    const ok = await get(port, '/metrics', { auth: 'prometheus:s3cret' });
    expect(ok).toMatchObject({ status: 200, body: 'up 1\n' });
    expect(ok.headers['strict-transport-security']).toBe('max-age=31536000');
    // Remembered, and still right.
    expect((await get(port, '/metrics', { auth: 'prometheus:s3cret' })).status).toBe(200);
  });

  it('refuses clients below min_version', async (ctx) => {
    if (!hasOpenssl) return ctx.skip();
    const port = await serve(`${tls()}  min_version: TLS13\n`);
    await expect(get(port, '/healthz', { maxVersion: 'TLSv1.2' })).rejects.toThrow();
    expect((await get(port, '/healthz')).status).toBe(200);
  });

  it('with RequireAndVerifyClientCert, only a client certificate from the CA gets in', async (ctx) => {
    if (!hasOpenssl) return ctx.skip();
    const port = await serve(
      `${tls()}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${join(dir, 'ca.pem')}\n`,
    );
    await expect(get(port, '/healthz')).rejects.toThrow();
    expect((await get(port, '/metrics', { cert: true })).status).toBe(200);
  });
});

describe('a web config file that is wrong', () => {
  it.each([
    ['basic_auth_users:\n  a: plaintext\n', 'basic_auth_users.a: must be a bcrypt hash'],
    [
      'tls_server_config:\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n',
      'tls_server_config.cert_file: cannot read /nonexistent.pem',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n',
      'tls_server_config.client_ca_file: needs client_ca_file',
    ],
    [
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: SSL3\n',
      'tls_server_config.min_version',
    ],
    ['http_server_config:\n  http2: true\n', 'http_server_config.http2: unknown field'],
  ])('%j names %s', async (text, problem) => {
    await expect(loadWebConfig(webConfig(text))).rejects.toThrow(ConfigError);
    await expect(loadWebConfig(webConfig(text))).rejects.toThrow(problem);
    // check-config reads it too, and exits 2.
    const config = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, `web: { config_file: ${webConfig(text)} }\n`);
    let err = '';
    const code = await main(['check-config', config], {
      out: () => undefined,
      err: (t) => (err += t),
    });
    expect(code).toBe(2);
    expect(err).toContain(problem);
  });
});

describe('a certificate that does not load: check-config and run refuse it alike, by name, exit 2', () => {
  const runAgent = (config: string) =>
    spawnSync(process.execPath, [MAIN, 'run', '--config', config, '--listen', '127.0.0.1:0'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: '/usr/bin:/bin' },
    });

  it.for([
    [
      "a key that is not the certificate's",
      'client.key',
      'server.pem',
      /key_file is not the key of cert_file/,
    ],
    [
      'a certificate file that is not PEM',
      'server.key',
      'garbage.pem',
      /not a PEM certificate or key/,
    ],
  ] as const)('%s', async ([, key, cert, problem], ctx) => {
    if (!requireTool('openssl', 'openssl', () => ctx.skip())) return;
    writeFileSync(join(dir, 'garbage.pem'), 'this is not a certificate\n');
    const config = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
    const web = webConfig(
      `tls_server_config:\n  cert_file: ${join(dir, cert)}\n  key_file: ${join(dir, key)}\n`,
    );
    writeFileSync(config, `web: { config_file: ${web} }\n`);
    let err = '';
    const code = await main(['check-config', config], {
      out: () => undefined,
      err: (t) => (err += t),
    });
    expect(code).toBe(2);
    expect(err).toMatch(problem);
    const run = runAgent(config);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(problem);
    // A named problem, not a crash on the way up.
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).not.toContain('PRIVATE KEY');
  });
});

describe('the agent with a web config', () => {
  const agent = agentsKilledAfterEach();

  it('serves /metrics over TLS with basic auth, /healthz without', async (ctx) => {
    if (!requireTool('openssl', 'openssl', () => ctx.skip())) return;
    const file = webConfig(
      `tls_server_config:\n  cert_file: ${join(dir, 'server.pem')}\n  key_file: ${join(dir, 'server.key')}\nbasic_auth_users:\n  prometheus: "${HASH}"\n`,
    );
    const a = await agent({
      config: `${FAST_CONFIG}web: { config_file: ${file} }\n`,
      noNvidiaSmi: true,
    });
    expect((await get(a.port, '/healthz')).status).toBe(200);
    expect((await get(a.port, '/metrics')).status).toBe(401);
    const ok = await get(a.port, '/metrics', { auth: 'prometheus:s3cret' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('inferwatch_build_info');
    // The rules' runbook links read the scheme here, and open the runbook with no credentials.
    expect(ok.body).toContain('inferwatch_web_info{scheme="https"} 1');
    const runbook = await get(a.port, '/runbooks/LLMNodeGPULost.md');
    expect(runbook.status).toBe(200);
    expect(runbook.body).toContain('<h1>LLMNodeGPULost</h1>');
  });
});
