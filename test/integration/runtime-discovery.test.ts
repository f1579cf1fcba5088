import { afterEach, describe, expect, it } from 'vitest';
import { discover, identify } from '../../agent/collectors/runtimes/discovery.js';
import { httpClient } from '../../agent/core/http.js';
import { RuntimeServer } from '../fake/runtime-server.js';
import { readFixture } from '../helpers/fixtures.js';

const runtime = (name: string) => readFixture('runtimes', name);

/** What each runtime answers on the endpoints it has; nothing else is served. */
const SHAPES: Record<string, Record<string, string>> = {
  vllm: { '/metrics': runtime('vllm_metrics_v1_constructed_two-engines.txt') },
  'vllm (metrics off, models list)': {
    '/v1/models': '{"object":"list","data":[{"id":"m","owned_by":"vllm"}]}',
  },
  sglang: { '/metrics': runtime('sglang_metrics_llama-3.1-8b_docs-example.txt') },
  'sglang (metrics off)': {
    '/get_model_info': '{"model_path":"meta-llama/Llama-3.1-8B-Instruct"}',
  },
  tgi: {
    '/metrics': runtime('tgi_metrics_datadog-fixture_partial.txt'),
    '/info': runtime('tgi_info_constructed.json'),
  },
  llamacpp: { '/props': runtime('llama.cpp_props_constructed.json') },
  ollama: { '/api/version': runtime('ollama_api-version_constructed.json') },
  triton: { '/metrics': runtime('triton_metrics_trtllm-backend-readme.txt') },
  nim: { '/v1/metrics': runtime('nim_metrics_constructed_llama-3.1-8b.txt') },
};

const servers: RuntimeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(routes: Record<string, string>): Promise<RuntimeServer> {
  const server = new RuntimeServer(routes);
  servers.push(server);
  await server.listen();
  return server;
}

const options = { timeoutMs: 1000, maxBytes: 10 * 1024 * 1024 };

describe('identifying a runtime by what its endpoints answer', () => {
  it.each(Object.entries(SHAPES))('%s', async (name, routes) => {
    const server = await serve(routes);
    const adapter = await identify(httpClient, server.url, options);
    expect(adapter?.kind).toBe(name.split(' ')[0]);
  });

  it('takes nothing else for a runtime: a web app, a Prometheus of its own, a closed port', async () => {
    const web = await serve({
      '/': '<html>Grafana</html>',
      '/info': '<html>not json</html>',
      '/metrics': '# TYPE go_goroutines gauge\ngo_goroutines 12\n',
    });
    expect(await identify(httpClient, web.url, options)).toBeUndefined();
    const closed = await serve({});
    const url = closed.url;
    await closed.close();
    servers.pop();
    expect(await identify(httpClient, url, options)).toBeUndefined();
  });

  it('llama.cpp is identified through /props: its 1.3 MB web UI at / is never asked for', async () => {
    const server = await serve({
      ...(SHAPES.llamacpp as Record<string, string>),
      '/': `<!doctype html>${'x'.repeat(1_300_000)}`,
    });
    const adapter = await identify(httpClient, server.url, { ...options, maxBytes: 1 << 20 });
    expect(adapter?.kind).toBe('llamacpp');
    expect(server.requests).not.toContain('/');
    // Discovery asks the same small endpoints on every pass.
    await discover(httpClient, {
      host: '127.0.0.1',
      ports: [Number(new URL(server.url).port)],
      timeoutMs: 1500,
      requestTimeoutMs: 500,
      maxBytes: 1 << 20,
    });
    expect(server.requests).not.toContain('/');
  });

  it('discovers every listening runtime at once, within its time cap', async () => {
    const a = await serve(SHAPES.ollama as Record<string, string>);
    const b = await serve(SHAPES.tgi as Record<string, string>);
    const hung = await serve(SHAPES.vllm as Record<string, string>);
    hung.set({ mode: 'hang' });
    const ports = [a, b, hung].map((s) => Number(new URL(s.url).port));
    const started = Date.now();
    const found = await discover(httpClient, {
      host: '127.0.0.1',
      ports,
      timeoutMs: 1500,
      requestTimeoutMs: 500,
      maxBytes: options.maxBytes,
    });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(found.map((f) => f.adapter.kind).sort()).toEqual(['ollama', 'tgi']);
  });
});
