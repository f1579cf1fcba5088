import { z } from 'zod';
import { ms } from '../core/config-fields.js';

/** The HTTP server's block. */
export const webConfig = z
  .strictObject({
    max_requests: z
      .int()
      .min(1)
      .max(1000)
      .default(40)
      .describe('Requests served at once; more are answered 503.'),
    process_metrics: z
      .boolean()
      .default(true)
      .describe("Export the agent's own process_* and nodejs_* metrics."),
    max_connections: z
      .int()
      .min(1)
      .max(10_000)
      .default(128)
      .describe(
        'Open connections at once. Past it, each new connection closes the oldest one not serving a request (a client trickling its headers, an idle keep-alive); while all are serving, up to 8 times as many are let in, and more are refused.',
      ),
    config_file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A web config file in the Prometheus exporter-toolkit format (as node_exporter --web.config.file): TLS and basic auth for every endpoint but /healthz.',
      ),
    header_timeout_ms: ms(500, 60_000)
      .default(10_000)
      .describe(
        'Longest a client may take to send its request headers; a slower one is cut off (slowloris).',
      ),
  })
  .prefault({})
  .describe('The HTTP server.');
