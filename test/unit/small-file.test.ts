import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSmallFile } from '../../agent/core/small-file.js';
import { tempDir } from '../helpers/agent-process.js';

describe('readSmallFile', () => {
  const dir = tempDir();

  it('reads a file up to its cap', async () => {
    writeFileSync(join(dir, 'ok'), 'abcd');
    expect(await readSmallFile(join(dir, 'ok'), 4)).toBe('abcd');
  });

  it('refuses a file over its cap, a directory and a device', async () => {
    writeFileSync(join(dir, 'big'), 'abcde');
    await expect(readSmallFile(join(dir, 'big'), 4)).rejects.toThrow('larger than 4 bytes');
    await expect(readSmallFile(dir, 4)).rejects.toThrow('not a regular file');
    await expect(readSmallFile('/dev/zero', 4)).rejects.toThrow('not a regular file');
  });
});
