import { z } from 'zod';
import { HOST_PORT, httpUrl, ms } from '../core/config-fields.js';
import { RUNTIME_KINDS } from '../collectors/runtimes/adapters/index.js';

const proxyRoute = z.strictObject({
  listen: z
    .string()
    .regex(HOST_PORT, 'must be HOST:PORT, such as 0.0.0.0:11435')
    .refine((l) => Number(l.slice(l.lastIndexOf(':') + 1)) <= 65_535, {
      message: 'the port must be 0 to 65535',
    })
    .describe("Address clients use instead of the runtime's own port."),
  upstream: httpUrl().describe(
    'Base URL of the runtime every request is passed to, unchanged (the only place the route sends to: it is never an open proxy).',
  ),
  runtime: z
    .enum(RUNTIME_KINDS)
    .describe(
      'The runtime behind it: which paths are inference requests and how its answers are framed.',
    ),
  name: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe(
      "The target label of what it measures (default: the upstream's host:port, the name the runtimes collector gives the same runtime, so both join).",
    ),
  max_concurrency: z
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .describe(
      'Requests the runtime runs at once (Ollama: OLLAMA_NUM_PARALLEL; llama.cpp: --parallel). With it, requests in flight beyond it count as waiting; without it, all count as running.',
    ),
  preserve_host: z
    .boolean()
    .default(false)
    .describe(
      "Pass the client's Host header on; by default the upstream's host:port is sent, as a reverse proxy does (Ollama refuses other hosts on loopback).",
    ),
});

const proxy = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Serve the routes (only under `inferwatch run`; once, doctor and probe never listen).',
      ),
    routes: z
      .array(proxyRoute)
      .max(32)
      .default([])
      .describe(
        'Metering routes, each {listen, upstream, runtime, name, max_concurrency, preserve_host}: request metrics for runtimes that report none (Ollama) or only some.',
      ),
    max_streams: z
      .int()
      .min(1)
      .max(10_000)
      .default(256)
      .describe(
        'Requests one route carries at once; more are answered 503 at once and counted as rejected.',
      ),
    connect_timeout_ms: ms(100, 60_000)
      .default(5000)
      .describe('Longest the connection to the upstream may take; then the client gets a 504.'),
    idle_timeout_ms: ms(1000, 3_600_000)
      .default(600_000)
      .describe(
        'Longest the upstream may stay silent, before its answer starts or between two of its chunks (a model load can take minutes); then the request is cut and counted as an error.',
      ),
  })
  .refine((p) => new Set(p.routes.map((r) => r.listen)).size === p.routes.length, {
    message: 'two routes listen on the same address',
    path: ['routes'],
  });

export const proxyConfig = proxy
  .prefault({})
  .describe(
    'A transparent metering proxy: clients use its routes instead of the runtime ports, and it measures what they get.',
  );
