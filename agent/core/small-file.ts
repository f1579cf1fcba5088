import { open } from 'node:fs/promises';

export class SmallFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmallFileError';
  }
}

/**
 * A small file read whole, bounded: a regular file of at most `maxBytes`. The cap holds while
 * reading too, so a file that grows after the size check is still refused, not read to the end.
 */
export async function readSmallFile(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new SmallFileError('not a regular file');
    if (info.size > maxBytes) throw new SmallFileError(`larger than ${maxBytes} bytes`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new SmallFileError(`larger than ${maxBytes} bytes`);
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}
