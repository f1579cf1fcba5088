/** Where a command writes: stdout and stderr, injected so tests read them. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
