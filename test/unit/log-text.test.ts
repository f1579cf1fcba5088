import { describe, expect, it } from 'vitest';
import { textLine } from '../../agent/core/log-text.js';
import { createLogger, logFormat, textDestination } from '../../agent/core/logger.js';
import { registerSecret } from '../../agent/core/secrets.js';

describe('text logs', () => {
  it('write the time, the level in words, the message, then the other fields', () => {
    expect(
      textLine(
        '{"level":40,"time":"2026-12-03T13:02:27.114Z","app":"inferwatch","source":"nvidia_smi","reason":"not_found","msg":"nvidia_smi: nvidia-smi: not found on PATH"}',
      ),
    ).toBe(
      '2026-12-03T13:02:27.114Z WARN  nvidia_smi: nvidia-smi: not found on PATH  source=nvidia_smi  reason=not_found\n',
    );
    // Values with spaces or quotes are quoted; objects are JSON; a line that is not JSON passes.
    expect(
      textLine('{"level":50,"time":"t","msg":"m","problems":["a b"],"detail":"say \\"hi\\""}'),
    ).toBe('t ERROR m  problems="[\\"a b\\"]"  detail="say \\"hi\\""\n');
    expect(textLine('not json')).toBe('not json\n');
  });

  it('are what auto picks on a terminal, JSON anywhere else, whatever was asked otherwise', () => {
    expect(logFormat('auto', true)).toBe('text');
    expect(logFormat('auto', false)).toBe('json');
    expect(logFormat('json', true)).toBe('json');
    expect(logFormat('text', false)).toBe('text');
  });

  it('come from the logger scrubbed of secrets, as its JSON does', async () => {
    const marker = 'planted-LOG-TEXT-7f3a91';
    registerSecret(marker);
    let out = '';
    const logger = createLogger(
      'info',
      textDestination({ write: (text: string) => (out += text) }),
    );
    logger.warn({ source: 'dcgm', url: `http://user:${marker}@host/` }, `failed with ${marker}`);
    logger.debug('below the level');
    await new Promise((r) => setImmediate(r));
    expect(out).toMatch(/^\S+ WARN {2}failed with \[redacted\] {2}source=dcgm {2}url=/);
    expect(out).not.toContain(marker);
    expect(out.split('\n')).toHaveLength(2);
  });
});
