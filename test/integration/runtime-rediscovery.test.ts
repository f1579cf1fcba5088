import { afterEach, describe, expect, it } from 'vitest';
import { RuntimesCollector } from '../../agent/collectors/runtimes/collector.js';
import { RUNTIME_INFO, RUNTIME_UP } from '../../agent/collectors/runtimes/metrics.js';
import { systemClock } from '../../agent/core/clock.js';
import { nodeProcessRunner } from '../../agent/core/exec.js';
import { httpClient } from '../../agent/core/http.js';
import { createLogger } from '../../agent/core/logger.js';
import { StateLog } from '../../agent/core/state-log.js';
import { collectorDeps } from '../helpers/collector-deps.js';
import { RuntimeServer } from '../fake/runtime-server.js';
import { eventually } from '../helpers/agent-process.js';
import { readFixture } from '../helpers/fixtures.js';
import { Recorder } from '../helpers/recorder.js';

const servers: RuntimeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function llamaServer(modelPath: string, port = 0): Promise<RuntimeServer> {
  const server = new RuntimeServer({
    '/props': JSON.stringify({ total_slots: 2, model_path: modelPath, build_info: 'b5670' }),
    '/metrics': readFixture('runtimes', 'llama.cpp_metrics_constructed_full.txt'),
  });
  servers.push(server);
  await server.listen(port);
  return server;
}

function collector(
  ports: number[],
  targets: ConstructorParameters<typeof RuntimesCollector>[0]['targets'] = [],
  errors: string[] = [],
): RuntimesCollector {
  const logger = createLogger('error', { write: () => undefined });
  return new RuntimesCollector(
    {
      targets,
      timeoutMs: 500,
      maxBodyBytes: 1024 * 1024,
      refreshIntervalMs: 3_600_000,
      maxModels: 100,
      maxStalenessMs: 60_000,
      discovery: { host: '127.0.0.1', ports, timeoutMs: 1000 },
      proxied: new Map(),
    },
    collectorDeps({
      runner: nodeProcessRunner,
      http: httpClient,
      clock: systemClock,
      logger,
      errors: { count: (collector, reason) => void errors.push(`${collector}/${reason}`) },
      stateLog: new StateLog(logger),
    }),
  );
}

async function collect(c: RuntimesCollector): Promise<Recorder> {
  const out = new Recorder();
  await c.collect(out, new AbortController().signal);
  return out;
}

describe('rediscovery', () => {
  it('follows a runtime restarted on another port, and a model swapped', async () => {
    const first = await llamaServer('/models/a.gguf');
    const firstPort = Number(new URL(first.url).port);
    const spare = await llamaServer('/models/unused.gguf');
    const sparePort = Number(new URL(spare.url).port);
    await spare.close();
    servers.pop();
    const c = collector([firstPort, sparePort]);
    await c.refresh();
    let out = await collect(c);
    expect(out.samples.filter((s) => s.def === RUNTIME_INFO).map((s) => s.labels.model)).toEqual([
      'a.gguf',
    ]);

    // Restarted on the other port with another model.
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    await llamaServer('/models/b.gguf', sparePort);
    // Scrapes back to back share a read a second: the next read finds it gone.
    await eventually(
      async () =>
        (await collect(c)).value(RUNTIME_UP, {
          runtime: 'llamacpp',
          target: `127.0.0.1:${firstPort}`,
        }) === 0,
      5000,
      'the first port down',
    );
    await c.refresh();
    out = await collect(c);
    expect(
      out.samples.filter((s) => s.def === RUNTIME_UP).map((s) => [s.labels.target, s.value]),
    ).toEqual([[`127.0.0.1:${sparePort}`, 1]]);
    expect(out.samples.filter((s) => s.def === RUNTIME_INFO).map((s) => s.labels.model)).toEqual([
      'b.gguf',
    ]);
    expect(c.status().lines?.[0]).toContain('llamacpp b5670');
  });

  it('does not find a configured runtime a second time under another name for the host', async () => {
    const server = await llamaServer('/models/a.gguf');
    const port = Number(new URL(server.url).port);
    const c = collector(
      [port],
      [{ kind: 'llamacpp', url: `http://localhost:${port}`, name: 'mine', headers: {} }],
    );
    await c.refresh();
    const out = await collect(c);
    expect(out.samples.filter((s) => s.def === RUNTIME_UP).map((s) => s.labels.target)).toEqual([
      'mine',
    ]);
  });

  it('serves what parsed from a runtime that prints lines out of the format, and counts them', async () => {
    const server = new RuntimeServer({
      '/metrics': readFixture('runtimes', 'sglang_metrics_llama-3.1-8b_docs-example.txt'),
    });
    servers.push(server);
    await server.listen();
    const errors: string[] = [];
    const c = collector([], [{ kind: 'sglang', url: server.url, headers: {} }], errors);
    const out = await collect(c);
    expect(out.value(RUNTIME_UP, { runtime: 'sglang', target: new URL(server.url).host })).toBe(1);
    expect(out.degraded).toBeUndefined();
    expect(errors).toEqual(['runtimes/bad_lines']);
  });
});
