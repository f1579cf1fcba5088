import { open, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from './lines.js';

/**
 * Where a follower has read to: kept by whoever outlives the follower (a reload builds a new
 * one), so the next carries on from there rather than from the end.
 */
export interface FollowPosition {
  inode: number | undefined;
  offset: number;
}

export interface FollowerOptions {
  readonly path: string;
  /** Where an earlier follower of this file stopped, updated as this one reads. */
  readonly position?: FollowPosition;
  readonly maxLineBytes: number;
  /** Most bytes read in one poll; the rest waits for the next (a burst cannot stall the agent). */
  readonly maxReadBytes: number;
  onLine(line: string): void;
  onOversizeLine(): void;
}

export type FollowState = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * Follows a log file as `tail -F` does, one poll at a time: starts at the end (or where an
 * earlier follower of the same file stopped, given its position), reads what was
 * appended, finishes the old file and opens the new one when it is rotated (a new inode under
 * the path), and starts over when it is truncated (copytruncate). Like tail, it sees a
 * truncation only if the file has not grown past the old position again by the next poll.
 */
export class FileFollower {
  private handle: FileHandle | undefined;
  private inode: number | undefined;
  private offset = 0;
  /** At start, history is not news; a file that appears later is read from its start. */
  private startAtEnd = true;
  private decoder = new StringDecoder('utf8');
  private readonly splitter: LineSplitter;

  constructor(private readonly options: FollowerOptions) {
    this.splitter = new LineSplitter(options.maxLineBytes, options.onLine, options.onOversizeLine);
  }

  async poll(): Promise<FollowState> {
    try {
      if (!this.handle) await this.openPath();
      const handle = this.handle;
      if (!handle) return { ok: false, error: `${this.options.path}: not there` };
      const size = (await handle.stat()).size;
      if (size < this.offset) this.restartAt(0); // truncated in place
      await this.readFrom(handle, size);
      const current = await stat(this.options.path).catch(() => undefined);
      if (current && current.ino !== this.inode) {
        // Rotated: the old file is complete; what follows goes to the new one, from its start.
        await this.readFrom(handle, (await handle.stat()).size);
        this.splitter.end();
        await this.close();
        await this.openPath();
        if (this.handle) await this.readFrom(this.handle, (await this.handle.stat()).size);
      }
      return { ok: true };
    } catch (error) {
      if (!this.handle) this.startAtEnd = false;
      await this.close();
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Closes the file; a partial last line waits (after a read error the file is reopened). */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  private async openPath(): Promise<void> {
    const handle = await open(this.options.path, 'r');
    const info = await handle.stat();
    this.handle = handle;
    const earlier = this.options.position;
    if (this.startAtEnd && earlier?.inode === info.ino && earlier.offset <= info.size) {
      // The file an earlier follower read (before a reload): what was appended meanwhile is news.
      this.restartAt(earlier.offset);
    } else if (info.ino !== this.inode || info.size < this.offset) {
      // The same file again (after a read error) carries on where it stopped.
      this.restartAt(this.startAtEnd ? info.size : 0);
    }
    this.inode = info.ino;
    this.startAtEnd = false;
    this.remember();
  }

  private remember(): void {
    const position = this.options.position;
    if (!position) return;
    position.inode = this.inode;
    position.offset = this.offset;
  }

  private restartAt(offset: number): void {
    this.offset = offset;
    this.decoder = new StringDecoder('utf8');
  }

  private async readFrom(handle: FileHandle, size: number): Promise<void> {
    let budget = this.options.maxReadBytes;
    while (this.offset < size && budget > 0) {
      const length = Math.min(size - this.offset, budget, 64 * 1024);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      this.remember();
      budget -= bytesRead;
      // The decoder holds back a character split between two reads.
      this.splitter.push(this.decoder.write(buffer.subarray(0, bytesRead)));
    }
  }
}
