import type { Logger } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import { DIALECTS } from '../shared/dialect.js';
import type { ProbeResult } from './types.js';

export interface SpanSink {
  record(result: ProbeResult, maxTokens: number): void;
  shutdown(): Promise<void>;
}

export interface OtlpOptions {
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/**
 * Each probe run as a span with the OpenTelemetry GenAI semantic-convention attributes,
 * exported over OTLP/HTTP through @opentelemetry/sdk-node. Imported only when an endpoint is
 * configured, so a node without OTLP never loads the SDK.
 */
export async function startOtlp(options: OtlpOptions, logger: Logger): Promise<SpanSink> {
  const [{ NodeSDK, tracing }, { OTLPTraceExporter }, api] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/api'),
  ]);
  const exporter = new OTLPTraceExporter({
    url: options.endpoint,
    headers: { ...options.headers },
    timeoutMillis: options.timeoutMs,
  });
  const sdk = new NodeSDK({
    serviceName: 'inferwatch',
    spanProcessors: [new tracing.BatchSpanProcessor(exporter)],
    instrumentations: [],
  });
  sdk.start();
  const tracer = api.trace.getTracer('inferwatch-probe', VERSION);
  logger.info({ endpoint: redactUrl(options.endpoint) }, 'probe runs exported as OTLP spans');
  return {
    record(result, maxTokens) {
      if (result.outcome === 'skipped') return;
      const operation = DIALECTS[result.api].operation;
      const span = tracer.startSpan(`${operation} ${result.model}`.trim(), {
        kind: api.SpanKind.CLIENT,
        startTime: result.startedAtMs,
        attributes: spanAttributes(result, maxTokens),
      });
      if (result.outcome === 'failure')
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: result.reason });
      span.end(result.startedAtMs + result.durationS * 1000);
    },
    shutdown: () => sdk.shutdown(),
  };
}

type Attributes = Record<string, string | number | boolean | string[]>;

/** gen_ai.* per the GenAI conventions (development status); inferwatch.probe.* for the rest. */
export function spanAttributes(result: ProbeResult, maxTokens: number): Attributes {
  const url = new URL(result.url);
  const m = result.measured;
  const attributes: Attributes = {
    'gen_ai.operation.name': DIALECTS[result.api].operation,
    'gen_ai.provider.name': result.runtime,
    'gen_ai.request.temperature': 0,
    'gen_ai.request.max_tokens': maxTokens,
    'server.address': url.hostname,
    'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    'inferwatch.probe.target': result.target,
    'inferwatch.probe.module': result.module,
    'inferwatch.probe.result': result.outcome,
  };
  if (result.model) attributes['gen_ai.request.model'] = result.model;
  if (result.outcome === 'failure') attributes['error.type'] = result.reason;
  if (result.httpStatus !== undefined) attributes['http.response.status_code'] = result.httpStatus;
  if (m?.finish) attributes['gen_ai.response.finish_reasons'] = [m.finish];
  if (m?.ttftMs !== undefined) attributes['gen_ai.response.time_to_first_chunk'] = m.ttftMs / 1000;
  if (m?.tpotMs !== undefined) attributes['inferwatch.probe.tpot_seconds'] = m.tpotMs / 1000;
  // The conventions: usage the service did not report MUST NOT be recorded; an estimate is not usage.
  if (m?.tokenSource === 'usage' || m?.tokenSource === 'native') {
    if (m.outputTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = m.outputTokens;
    if (m.inputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = m.inputTokens;
  }
  if (result.canary) {
    attributes['inferwatch.probe.canary.name'] = result.canary.name;
    attributes['inferwatch.probe.canary.match'] = result.canary.match;
  }
  return attributes;
}

function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
