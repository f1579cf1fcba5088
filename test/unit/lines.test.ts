import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../agent/core/lines.js';

describe('LineSplitter', () => {
  it('joins lines split across chunks and strips CR', () => {
    const lines: string[] = [];
    const s = new LineSplitter(
      100,
      (l) => lines.push(l),
      () => undefined,
    );
    s.push('ab');
    s.push('c\r\nde');
    s.push('f\n\n');
    s.push('tail');
    s.end();
    expect(lines).toEqual(['abc', 'def', '', 'tail']);
  });

  it('drops an overlong line without buffering it, then carries on', () => {
    const lines: string[] = [];
    let oversize = 0;
    const s = new LineSplitter(
      5,
      (l) => lines.push(l),
      () => oversize++,
    );
    s.push('123');
    s.push('456789');
    s.push('0123\nok\n');
    expect(lines).toEqual(['ok']);
    expect(oversize).toBe(1);
  });
});
