/** Callers waiting for a source's first answer; `wait` gives up after its timeout. */
export class Waiters {
  private pending: (() => void)[] = [];

  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.pending.push(done);
    });
  }

  wakeAll(): void {
    const pending = this.pending;
    this.pending = [];
    for (const done of pending) done();
  }
}
