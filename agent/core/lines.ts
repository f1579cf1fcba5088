/**
 * Splits a byte stream into lines, holding at most `maxLineBytes` of an unfinished line: a
 * longer line is dropped (reported through `onOversize`) rather than buffered without bound.
 */
export class LineSplitter {
  private pending = '';
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversize: () => void,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl === -1) break;
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        this.pending = '';
        continue;
      }
      const line = this.pending + piece;
      this.pending = '';
      if (line.length > this.maxLineBytes) this.onOversize();
      else this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (this.discarding) return;
    this.pending += chunk.slice(start);
    if (this.pending.length > this.maxLineBytes) {
      this.pending = '';
      this.discarding = true;
      this.onOversize();
    }
  }

  /** Hands over a last line that had no newline (a process that exited mid-line). */
  end(): void {
    if (!this.discarding && this.pending.length > 0) this.onLine(this.pending);
    this.pending = '';
    this.discarding = false;
  }
}
