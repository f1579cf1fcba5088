import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../agent/cli.js';
import { ConfigError, parseConfig, parseConfigText } from '../../agent/config/load.js';
import { tempDir } from '../helpers/agent-process.js';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function file(text: string): string {
  const path = join(tempDir(), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('config', () => {
  it('every field has a default: an empty file is a complete config, frozen', () => {
    const config = parseConfigText('', 'empty.yaml');
    expect(config.listen).toBe('0.0.0.0:9500');
    expect(config.collectors.nvidia_smi).toMatchObject({
      enabled: true,
      command: 'nvidia-smi',
      interval_ms: 1000,
    });
    expect(config.collectors.nvidia_smi.processes.interval_ms).toBe(10_000);
    expect(config.collectors.host.filesystem_paths).toEqual(['/']);
    expect(Object.isFrozen(config.collectors.nvidia_smi.restart_backoff)).toBe(true);
    expect(() => {
      (config as { listen: string }).listen = 'x';
    }).toThrow();
  });

  it('takes snake_case overrides', () => {
    const config = parseConfig({
      collectors: { nvidia_smi: { interval_ms: 500, processes: { enabled: false } } },
    });
    expect(config.collectors.nvidia_smi.interval_ms).toBe(500);
    expect(config.collectors.nvidia_smi.processes).toEqual({
      enabled: false,
      interval_ms: 10_000,
      runtime_attribution: true,
    });
  });

  it.each([
    ['listen: 9500', 'listen'],
    ['listen: "localhost"', 'listen: must be HOST:PORT'],
    ['log_level: verbose', 'log_level'],
    ['bogus: 1', 'bogus: unknown field'],
    [
      'collectors: {nvidia_smi: {intervall_ms: 100}}',
      'collectors.nvidia_smi.intervall_ms: unknown field',
    ],
    ['collectors: {nvidia_smi: {interval_ms: 5}}', 'collectors.nvidia_smi.interval_ms'],
    ['collectors: {nvidia_smi: {interval_ms: 1.5}}', 'collectors.nvidia_smi.interval_ms'],
    ['collectors: {nvidia_smi: {enabled: "yes"}}', 'collectors.nvidia_smi.enabled'],
    [
      'collectors: {nvidia_smi: {restart_backoff: {initial_ms: 5000, max_ms: 1000}}}',
      'collectors.nvidia_smi.restart_backoff.max_ms',
    ],
    [
      'collectors: {nvidia_smi: {processes: {interval_ms: 10}}}',
      'collectors.nvidia_smi.processes.interval_ms',
    ],
    ['collectors: {host: {filesystem_paths: /models}}', 'collectors.host.filesystem_paths'],
    ['collectors: {host: {filesystem_paths: [""]}}', 'collectors.host.filesystem_paths.0'],
    ['collectors: {timeout_ms: 0}', 'collectors.timeout_ms'],
    ['collectors: {dcgm: {url: "localhost:9400"}}', 'collectors.dcgm.url: must be an http://'],
    ['listen: "0.0.0.0:99999"', 'listen: the port must be 0 to 65535'],
    [
      'collectors: {dcgm: {url: "http://admin:hunter2@127.0.0.1:9400/metrics"}}',
      'collectors.dcgm.url: must not hold credentials',
    ],
    [
      'probe: {otlp: {endpoint: "https://u:p@otel.example:4318/v1/traces"}}',
      'probe.otlp.endpoint: must not hold credentials',
    ],
    [
      'collectors: {runtimes: {targets: [{url: "http://h:1", headers: {X-Key: "a\\nb"}}]}}',
      'collectors.runtimes.targets.0.headers.X-Key: must not hold a line break',
    ],
    [
      'collectors: {nvidia_smi: {processes: {runtime_attribution: sometimes}}}',
      'collectors.nvidia_smi.processes.runtime_attribution',
    ],
    [
      'collectors: {runtimes: {targets: [{kind: vllm, url: "localhost:8000"}]}}',
      'collectors.runtimes.targets.0.url: must be an http:// or https:// URL',
    ],
    [
      'collectors: {runtimes: {targets: [{kind: vllm, url: "http://u:p@host:8000"}]}}',
      'collectors.runtimes.targets.0.url: must not hold credentials',
    ],
    [
      'collectors: {runtimes: {targets: [{kind: mlx, url: "http://h:1"}]}}',
      'collectors.runtimes.targets.0.kind',
    ],
    [
      'collectors: {runtimes: {targets: [{url: "http://h:1", headers: {"Bad Header": x}}]}}',
      'collectors.runtimes.targets.0.headers',
    ],
    ['collectors: {runtimes: {max_models: 0}}', 'collectors.runtimes.max_models'],
    ['collectors: {max_staleness_ms: 10}', 'collectors.max_staleness_ms'],
    ['collectors: {runtimes: {discovery: {ports: [0]}}}', 'collectors.runtimes.discovery.ports.0'],
    ['web: {max_requests: 0}', 'web.max_requests'],
    ['probe: {interval_s: 4}', 'probe.interval_s'],
    ['probe: {interval_s: 7200}', 'probe.interval_s'],
    [
      'probe: {interval_s: 30, timeout_ms: 30000}',
      'probe.timeout_ms: must be less than interval_s',
    ],
    ['probe: {interval_s: 10, jitter_ratio: 0.5, timeout_ms: 6000}', 'probe.timeout_ms'],
    ['probe: {stall_ms: 30000}', 'probe.stall_ms: must be less than timeout_ms'],
    ['probe: {max_tokens: 1}', 'probe.max_tokens'],
    ['probe: {skip_when: {kv_cache_usage_above: 80}}', 'probe.skip_when.kv_cache_usage_above'],
    [
      'probe: {interval_s: 300, backoff_max_s: 60}',
      'probe.backoff_max_s: must be at least interval_s',
    ],
    [
      'probe: {canary: {prompts: [{name: a, prompt: q, expect: "(unclosed"}]}}',
      'probe.canary.prompts.0.expect: must be a valid regular expression',
    ],
    [
      'probe: {canary: {prompts: [{name: a, prompt: q, expect: x}, {name: a, prompt: r, expect: y}]}}',
      'probe.canary.prompts: each canary needs its own name',
    ],
    ['probe: {canary: {prompts: []}}', 'probe.canary.prompts'],
    ['probe: {targets: [{target: a, api: grpc}]}', 'probe.targets.0.api'],
    [
      'probe: {targets: [{target: a}, {target: a}]}',
      'probe.targets: each target may be listed once',
    ],
    ['probe: {marker: {request_id_prefix: "a b"}}', 'probe.marker.request_id_prefix'],
    ['probe: {otlp: {endpoint: "collector:4318"}}', 'probe.otlp.endpoint: must be an http://'],
    ['probe: {promt: x}', 'probe.promt: unknown field'],
    [
      'cost: {hardware: {capex_usd: 1000, residual_usd: 2000}}',
      'cost.hardware.residual_usd: must not exceed hardware.capex_usd',
    ],
    ['cost: {energy: {pue: 0.8}}', 'cost.energy.pue'],
    ['cost: {energy: {price_usd_per_kwh: -1}}', 'cost.energy.price_usd_per_kwh'],
    ['cost: {hardware: {amortization_months: 0}}', 'cost.hardware.amortization_months'],
    ['cost: {requests_per_task: 0}', 'cost.requests_per_task'],
    [
      'cost: {api_references: [{name: a, input_usd_per_million: 1, output_usd_per_million: 2, as_of: "July 2024"}]}',
      'cost.api_references.0.as_of: must be a date',
    ],
    [
      'cost: {api_references: [{name: a, input_usd_per_million: 1, output_usd_per_million: 2, as_of: 2024-07-18}, {name: a, input_usd_per_million: 1, output_usd_per_million: 2, as_of: 2024-07-18}]}',
      'cost.api_references: each reference needs its own name',
    ],
    ['cost: {capex_usd: 1}', 'cost.capex_usd: unknown field'],
    [
      'proxy: {routes: [{listen: "0.0.0.0:11435", upstream: "http://u:p@127.0.0.1:11434", runtime: ollama}]}',
      'proxy.routes.0.upstream: must not hold credentials',
    ],
    [
      'proxy: {routes: [{listen: "11435", upstream: "http://127.0.0.1:11434", runtime: ollama}]}',
      'proxy.routes.0.listen: must be HOST:PORT',
    ],
    [
      'proxy: {routes: [{listen: ":1", upstream: "http://a:1", runtime: ollama}, {listen: ":1", upstream: "http://b:1", runtime: vllm}]}',
      'proxy.routes: two routes listen on the same address',
    ],
    [
      'listen: "127.0.0.1:9500"\nproxy: {routes: [{listen: "127.0.0.1:9500", upstream: "http://a:1", runtime: ollama}]}',
      'proxy.routes: a proxy route listens on the address of /metrics',
    ],
    [
      'proxy: {routes: [{listen: ":1", upstream: "http://a:1", runtime: lmstudio}]}',
      'proxy.routes.0.runtime',
    ],
    ['proxy: {max_streams: 0}', 'proxy.max_streams'],
    ['- a list', '(top level)'],
    ['listen: [unclosed', 'YAML'],
    ['listen: a:1\nlisten: b:2', 'YAML'],
  ])('%j: names %s and exits 2', async (yaml, path) => {
    expect(() => parseConfigText(yaml, 'x.yaml')).toThrow(ConfigError);
    const r = await cli('check-config', file(yaml));
    expect(r.code).toBe(2);
    expect(r.err).toContain(path);
  });

  it('takes probe settings, and the canaries compile case-insensitive', () => {
    const config = parseConfigText(
      [
        'probe:',
        '  interval_s: 300',
        '  timeout_ms: 60000',
        '  canary: {every_runs: 2, prompts: [{name: ok, prompt: "Say OK.", expect: "^\\\\s*ok\\\\b"}]}',
        '  targets: [{target: "127.0.0.1:11434", model: "llama3:8b", api: ollama-chat}]',
        '  otlp: {endpoint: "http://127.0.0.1:4318/v1/traces"}',
      ].join('\n'),
      'x.yaml',
    );
    expect(config.probe).toMatchObject({
      interval_s: 300,
      canary: { every_runs: 2, prompts: [{ name: 'ok', expect: '^\\s*ok\\b' }] },
      targets: [
        { target: '127.0.0.1:11434', enabled: true, model: 'llama3:8b', api: 'ollama-chat' },
      ],
      otlp: { endpoint: 'http://127.0.0.1:4318/v1/traces', headers: {} },
    });
    expect(parseConfig({}).probe).toMatchObject({ enabled: true, interval_s: 60, max_tokens: 16 });
    // Any interval: neither 45 s nor 90 s divides a minute or an hour.
    expect(parseConfig({ probe: { interval_s: 45, timeout_ms: 20_000 } }).probe.interval_s).toBe(
      45,
    );
    expect(parseConfig({ probe: { interval_s: 90 } }).probe.interval_s).toBe(90);
  });

  it('reports every problem at once, each with its path', async () => {
    const r = await cli(
      'check-config',
      file('listen: nope\nweb: {max_requests: -1}\ncollectors: {host: {proc_path: ""}}\n'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('listen:');
    expect(r.err).toContain('web.max_requests:');
    expect(r.err).toContain('collectors.host.proc_path:');
  });

  it('a valid file passes check-config with exit 0', async () => {
    const r = await cli(
      'check-config',
      file('collectors:\n  host:\n    filesystem_paths: [/, /models]\n'),
    );
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('valid');
  });

  it('a missing file, a directory, an invalid --listen: exit 2', async () => {
    expect((await cli('check-config', '/nonexistent.yaml')).err).toContain('cannot read');
    expect((await cli('check-config', tempDir())).err).toContain('not a regular file');
    const listen = await cli('once', '--listen', 'nowhere');
    expect(listen.code).toBe(2);
    expect(listen.err).toContain('listen');
  });
});

describe('cli usage', () => {
  it('--version, --help, and bad usage', async () => {
    expect((await cli('--version')).out).toMatch(/^inferwatch \d+\.\d+\.\d+/);
    expect((await cli('--help')).out).toContain('check-config FILE');
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('check-config')).code).toBe(2);
    expect((await cli('--nope')).code).toBe(2);
    expect((await cli('once', 'extra')).code).toBe(2);
  });
});
