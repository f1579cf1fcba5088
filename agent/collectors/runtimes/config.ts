import { z } from 'zod';
import { headerMap, httpUrl, ms } from '../../core/config-fields.js';
import { ADAPTERS, RUNTIME_KINDS } from './adapters/index.js';
import { DEFAULT_PORTS } from './discovery.js';

const runtimeTarget = z.strictObject({
  kind: z
    .enum(RUNTIME_KINDS)
    .optional()
    .describe('The runtime; when left out it is identified by what its endpoints answer.'),
  url: httpUrl().describe(
    'Base URL of the runtime (Triton: its metrics port, such as http://127.0.0.1:8002).',
  ),
  name: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("The target label in metrics (default: the URL's host:port)."),
  headers: headerMap()
    .default({})
    .describe('Extra HTTP headers sent to the runtime. Never logged.'),
  api_key_file: z
    .string()
    .min(1)
    .optional()
    .describe(
      'File (at most 64 KiB) holding an API key sent as "Authorization: Bearer KEY". Never logged.',
    ),
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional()
    .describe('Environment variable holding an API key, sent as a bearer token.'),
});

const runtimes = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe("Read LLM runtimes' metrics and APIs, normalized to the inferwatch_llm_* families."),
  targets: z
    .array(runtimeTarget)
    .max(64)
    .default([])
    .describe('Runtimes to read, each {kind, url, name, headers, api_key_file or api_key_env}.'),
  timeout_ms: ms(100, 60_000)
    .default(5000)
    .describe(
      'Longest one request to a runtime may take. A runtime that takes the connection and does not answer by then is unresponsive (busy), one that refuses it is down. A scrape does not wait for it past collectors.timeout_ms: it serves the last good read meanwhile.',
    ),
  max_models: z
    .int()
    .min(1)
    .max(10_000)
    .default(100)
    .describe(
      'Models per runtime that get series; a runtime reporting more has the rest left out, counted in inferwatch_llm_models_dropped and named by doctor.',
    ),
  max_body_bytes: z
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(10 * 1024 * 1024)
    .describe('Largest answer read from a runtime; a larger one is an error.'),
  refresh_interval_s: z
    .int()
    .min(10)
    .max(86_400)
    .default(300)
    .describe(
      'How often runtimes are looked for again and their version and model re-read (a restart on another port, a model swapped).',
    ),
  discovery: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe('Look for runtimes on their default ports, identified by what they answer.'),
      host: z.string().min(1).default('127.0.0.1').describe('The host to look on.'),
      ports: z
        .array(z.int().min(1).max(65_535))
        .max(64)
        .optional()
        .describe(
          `Ports to look on (default: every runtime's default port: ${DEFAULT_PORTS.join(', ')}).`,
        ),
      timeout_ms: ms(100, 60_000)
        .default(3000)
        .describe('Longest one discovery pass may take, all ports together.'),
    })
    .prefault({})
    .describe('Auto-discovery of local runtimes.'),
});

export const runtimesConfig = runtimes
  .prefault({})
  .describe(`LLM runtimes: ${ADAPTERS.map((a) => a.title).join(', ')}.`);
