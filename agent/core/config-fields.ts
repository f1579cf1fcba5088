import { z } from 'zod';

/** Field shapes several config blocks use. */

export const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/;

export const ms = (min: number, max: number) => z.int().min(min).max(max);

/** An http(s) URL that holds no user name or password: those would reach logs and pages. */
export const httpUrl = () =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), {
      message: 'must not hold credentials; use headers or api_key_file',
    });

/**
 * HTTP headers to send. A value may not hold a line break or NUL: it would be refused when
 * sent, and the refusal would quote it.
 */
export const headerMap = () =>
  z.record(
    z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'),
    z.string().regex(/^[^\r\n\0]*$/, 'must not hold a line break or NUL'),
  );

export const restartBackoff = z
  .strictObject({
    initial_ms: ms(100, 600_000)
      .default(1000)
      .describe('First delay before a failed stream is restarted.'),
    max_ms: ms(100, 3_600_000)
      .default(60_000)
      .describe('Longest delay; each failure doubles the delay up to this.'),
  })
  .refine((b) => b.max_ms >= b.initial_ms, {
    message: 'max_ms must be at least initial_ms',
    path: ['max_ms'],
  });
