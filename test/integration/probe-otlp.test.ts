import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/core/logger.js';
import { startOtlp } from '../../agent/probe/otlp.js';
import { MEASURED, probeResult } from '../helpers/probe-result.js';

const RESULT = probeResult({
  startedAtMs: Date.parse('2026-11-22T10:00:00Z'),
  measured: { ...MEASURED, outputEvents: 16, server: undefined },
});

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}

describe('OTLP export of probe runs', () => {
  it('sends each run as a CLIENT span with the GenAI attributes to the configured endpoint', async () => {
    const bodies: { path: string; headers: Record<string, unknown>; body: string }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const port = (collector.address() as AddressInfo).port;
    try {
      const sink = await startOtlp(
        {
          endpoint: `http://127.0.0.1:${port}/v1/traces`,
          headers: { 'x-tenant': 'gpu-fleet' },
          timeoutMs: 5000,
        },
        createLogger('error', { write: () => undefined }),
      );
      sink.record(RESULT, 16);
      sink.record(
        { ...RESULT, outcome: 'skipped', reason: 'saturated_queue', measured: undefined },
        16,
      );
      await sink.shutdown();
      expect(bodies).toHaveLength(1);
      expect(bodies[0]!.path).toBe('/v1/traces');
      expect(bodies[0]!.headers['x-tenant']).toBe('gpu-fleet');
      const sent = JSON.parse(bodies[0]!.body) as {
        resourceSpans: {
          scopeSpans: {
            spans: {
              name: string;
              kind: number;
              attributes: { key: string; value: OtlpValue }[];
              startTimeUnixNano: string;
              endTimeUnixNano: string;
            }[];
          }[];
        }[];
      };
      const spans = sent.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      expect(spans).toHaveLength(1); // the skipped run sent nothing, so it is no span
      const span = spans[0]!;
      expect(span.name).toBe('chat Qwen2.5-7B-Instruct');
      expect(span.kind).toBe(3); // SPAN_KIND_CLIENT
      const attr = Object.fromEntries(span.attributes.map((a) => [a.key, a.value]));
      expect(attr['gen_ai.operation.name']).toEqual({ stringValue: 'chat' });
      expect(attr['gen_ai.provider.name']).toEqual({ stringValue: 'vllm' });
      expect(attr['gen_ai.request.model']).toEqual({ stringValue: 'Qwen2.5-7B-Instruct' });
      expect(Number(attr['gen_ai.usage.output_tokens']?.intValue)).toBe(16);
      expect(Number(attr['gen_ai.usage.input_tokens']?.intValue)).toBe(21);
      expect(attr['gen_ai.response.time_to_first_chunk']).toEqual({ doubleValue: 0.12 });
      expect(attr['gen_ai.response.finish_reasons']).toEqual({
        arrayValue: { values: [{ stringValue: 'length' }] },
      });
      expect(attr['server.address']).toEqual({ stringValue: '127.0.0.1' });
      expect((BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1_000_000n).toBe(
        500n,
      );
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
