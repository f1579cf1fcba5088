import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeServer } from '../fake/runtime-server.js';
import { agentsKilledAfterEach, eventually, MAIN, tempDir } from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';

/**
 * A marker planted in every secret-bearing field. Each is unlike any other text, so finding
 * one anywhere in an output is a leak, whatever the output.
 */
const MARK = {
  header: 'PLANTED-HEADER-7f3a',
  fileKey: 'PLANTED-FILEKEY-91c2',
  envKey: 'PLANTED-ENVKEY-44d0',
  otlp: 'PLANTED-OTLP-b81e',
  password: 'PLANTED-PASSWORD-0c9d',
  hashPassword: 'PLANTED-RIGHT-PASSWORD-5e21',
  urlPassword: 'PLANTED-URLPASS-a6f4',
  secondLine: 'PLANTED-SECONDLINE-3b7c',
} as const;
const HASH = bcrypt.hashSync(MARK.hashPassword, 4);
const PLANTED = [...Object.values(MARK), HASH];

function leaks(text: string): string[] {
  return PLANTED.filter((marker) => text.includes(marker));
}

/** A hostile runtime: every answer is an error whose body quotes the request's headers. */
function echoServer(): Server {
  return createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res
        .writeHead(500, { 'content-type': 'text/plain', 'x-echo': JSON.stringify(req.headers) })
        .end(`bad request with headers ${JSON.stringify(req.headers)}`),
    );
  });
}

const agent = agentsKilledAfterEach();
const dir = tempDir();
let good: RuntimeServer;
let echo: Server;
let echoUrl = '';
let configPath = '';
const env = { PATH: '/usr/bin:/bin', INFERWATCH_PLANTED_KEY: MARK.envKey };
const run = promisify(execFile);

beforeAll(async () => {
  good = new RuntimeServer({
    '/metrics': readFixture('runtimes', 'vllm_metrics_v1_constructed_two-engines.txt'),
    '/version': '{"version":"0.11.0"}',
    '/v1/models': '{"object":"list","data":[{"id":"Qwen2.5-7B-Instruct"}]}',
  });
  await good.listen();
  echo = echoServer();
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  writeFileSync(join(dir, 'key'), `${MARK.fileKey}\n`);
  writeFileSync(join(dir, 'web.yml'), `basic_auth_users:\n  prometheus: "${HASH}"\n`);
  configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    `
log_level: debug
collectors:
  timeout_ms: 1000
  nvidia_smi: { enabled: false }
  kernel_events: { enabled: false }
  dcgm: { enabled: false }
  runtimes:
    discovery: { enabled: false }
    timeout_ms: 600
    targets:
      - kind: vllm
        url: "${good.url}"
        name: good
        api_key_file: ${join(dir, 'key')}
        headers: { X-Tenant: ${MARK.header} }
      - { kind: vllm, url: "${echoUrl}", name: echo, api_key_env: INFERWATCH_PLANTED_KEY }
probe:
  interval_s: 5
  jitter_ratio: 0
  timeout_ms: 2000
  stall_ms: 1000
  otlp:
    endpoint: "http://127.0.0.1:1/v1/traces"
    headers: { authorization: "Bearer ${MARK.otlp}" }
web: { config_file: ${join(dir, 'web.yml')} }
`,
  );
});

afterAll(async () => {
  await good.close();
  await new Promise((r) => echo.close(r));
});

describe('planted secrets never come out', () => {
  it('the running agent: debug logs, /metrics, /, /probe, /healthz, whatever the runtimes answer', async () => {
    const a = await agent({ config: await readConfig(), noNvidiaSmi: true, env });
    const auth = (password: string) => ({
      authorization: `Basic ${Buffer.from(`prometheus:${password}`).toString('base64')}`,
    });
    const right = auth(MARK.hashPassword);
    // The secrets are in use: the key and the header reach the runtime.
    await eventually(async () => good.lastHeaders.authorization === `Bearer ${MARK.fileKey}`);
    expect(good.lastHeaders['x-tenant']).toBe(MARK.header);
    // A wrong password (twice: checked, then a cached verdict) and an unknown user.
    for (let i = 0; i < 2; i++) {
      expect((await a.get('/metrics', auth(MARK.password))).status).toBe(401);
      expect(
        (
          await a.get('/metrics', {
            authorization: `Basic ${Buffer.from(`${MARK.password}:x`).toString('base64')}`,
          })
        ).status,
      ).toBe(401);
    }
    // Until the probe has failed against the hostile runtime and the OTLP export has failed.
    await eventually(
      async () =>
        (await (await a.get('/metrics', right)).text()).includes(
          'inferwatch_probe_runs_total{target="echo"',
        ),
      15_000,
      'a probe run against the hostile runtime',
    );
    // The good runtime fails too, then hangs: its error paths are logged as well.
    const scraped = async () => (await a.get('/metrics', right)).text();
    good.set({ mode: 'status', status: 401 });
    await eventually(
      async () =>
        (await scraped()).includes('inferwatch_llm_runtime_up{runtime="vllm",target="good"} 0'),
      15_000,
      'the 401 read',
    );
    good.set({ mode: 'hang' });
    await eventually(
      async () =>
        (await scraped()).includes(
          'inferwatch_llm_runtime_unresponsive{runtime="vllm",target="good"} 1',
        ),
      15_000,
      'the hung read',
    );
    good.set({ mode: 'serve' });

    const outputs: Record<string, string> = {
      metrics: await (await a.get('/metrics', right)).text(),
      landing: await (await a.get('/', right)).text(),
      probe: await (await a.get('/probe?target=echo', right)).text(),
      probeGood: await (await a.get('/probe?target=good', right)).text(),
      healthz: await (await a.get('/healthz')).text(),
      unauthorized: await (await a.get('/', auth(MARK.password))).text(),
    };
    expect(outputs.metrics).toContain('inferwatch_llm_runtime_up{runtime="vllm",target="echo"} 0');
    await a.stop('SIGTERM');
    outputs.logs = a.logs.map((l) => JSON.stringify(l)).join('\n');
    // The logs are at debug level and say what failed.
    expect(a.logs.some((l) => l.level === 'debug' || l.level === 20)).toBe(true);
    expect(outputs.logs).toMatch(/echo/);
    for (const [name, text] of Object.entries(outputs)) expect(leaks(text), name).toEqual([]);
  }, 60_000);

  it.each([
    ['doctor', ['doctor', '--config']],
    ['once', ['once', '--config']],
    ['probe', ['probe', '--config']],
    ['check-config', ['check-config']],
  ])(
    '%s',
    async (_, args) => {
      const result = await run(process.execPath, [MAIN, ...args, configPath], {
        env,
        encoding: 'utf8',
        timeout: 30_000,
      }).catch((error: { stdout: string; stderr: string; code: number }) => error);
      const text = `${result.stdout}\n${result.stderr}`;
      expect(text.length).toBeGreaterThan(0);
      expect(leaks(text)).toEqual([]);
    },
    40_000,
  );

  it.each([
    [
      'credentials in collectors.dcgm.url',
      `collectors:\n  dcgm: { url: "http://scraper:${MARK.urlPassword}@127.0.0.1:9400/metrics" }\n`,
      'collectors.dcgm.url',
    ],
    [
      'credentials in a runtime URL',
      `collectors:\n  runtimes:\n    targets: [{ kind: vllm, url: "http://u:${MARK.urlPassword}@127.0.0.1:8000" }]\n`,
      'collectors.runtimes.targets.0.url',
    ],
    [
      'credentials in a proxy upstream',
      `proxy:\n  routes: [{ listen: "127.0.0.1:11435", upstream: "http://u:${MARK.urlPassword}@127.0.0.1:11434", runtime: ollama }]\n`,
      'proxy.routes.0.upstream',
    ],
    [
      'credentials in probe.otlp.endpoint',
      `probe:\n  otlp: { endpoint: "http://u:${MARK.urlPassword}@127.0.0.1:4318/v1/traces" }\n`,
      'probe.otlp.endpoint',
    ],
    [
      'a header value with a line break',
      `collectors:\n  runtimes:\n    targets: [{ kind: vllm, url: "http://127.0.0.1:8000", headers: { X-Key: "${MARK.header}\\n${MARK.secondLine}" } }]\n`,
      'collectors.runtimes.targets.0.headers',
    ],
    [
      'an OTLP header value with a line break',
      `probe:\n  otlp: { endpoint: "http://127.0.0.1:4318/v1/traces", headers: { authorization: "${MARK.otlp}\\r\\n${MARK.secondLine}" } }\n`,
      'probe.otlp.headers',
    ],
    ['an API key file of two lines', 'TWO_LINE_KEY', 'collectors.runtimes.targets.0.api_key_file'],
  ])(
    'refused without being quoted: %s (check-config and run, exit 2)',
    async (_, yaml, field) => {
      const keyFile = join(dir, 'two-line-key');
      writeFileSync(keyFile, `${MARK.fileKey}\n${MARK.secondLine}\n`);
      const text =
        yaml === 'TWO_LINE_KEY'
          ? `collectors:\n  runtimes:\n    targets: [{ kind: vllm, url: "http://127.0.0.1:8000", api_key_file: ${keyFile} }]\n`
          : yaml;
      const config = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(config, text);
      for (const args of [
        ['check-config', config],
        ['run', '--config', config, '--listen', '127.0.0.1:0'],
      ]) {
        const result = await run(process.execPath, [MAIN, ...args], {
          env,
          encoding: 'utf8',
          timeout: 20_000,
        }).then(
          () => ({ code: 0, stdout: '', stderr: '' }),
          (error: { stdout: string; stderr: string; code: number }) => error,
        );
        expect(result.code, args[0]).toBe(2);
        expect(result.stderr).toContain(field);
        expect(leaks(`${result.stdout}${result.stderr}`), args[0]).toEqual([]);
      }
    },
    60_000,
  );

  it('a key file that goes bad is reported by doctor and once, by name, unquoted', async () => {
    const keyFile = join(dir, 'rotating-key');
    writeFileSync(keyFile, `${MARK.fileKey}\n${MARK.secondLine}\n`);
    const config = join(dir, 'rotating.yaml');
    writeFileSync(
      config,
      `collectors:\n  nvidia_smi: { enabled: false }\n  runtimes:\n    discovery: { enabled: false }\n    targets: [{ kind: vllm, url: "${good.url}", name: good, api_key_file: ${keyFile} }]\n`,
    );
    for (const command of ['doctor', 'once']) {
      const result = await run(process.execPath, [MAIN, command, '--config', config], {
        env,
        encoding: 'utf8',
        timeout: 20_000,
      }).catch((error: { stdout: string; stderr: string }) => error);
      const text = `${result.stdout}\n${result.stderr}`;
      expect(text, command).toContain('holds more than one line');
      expect(leaks(text), command).toEqual([]);
    }
  }, 40_000);
});

async function readConfig(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(configPath, 'utf8');
}
