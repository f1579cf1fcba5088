/** A runtime the agent reads, by the name its series carry. */
export interface RuntimeEndpoint {
  readonly runtime: string;
  readonly target: string;
  readonly url: string;
}

/**
 * The runtimes the agent reads (configured and discovered), published by the runtimes
 * collector after each refresh, so the per-process GPU memory can say which runtime holds it.
 */
export class RuntimeEndpoints {
  private list: readonly RuntimeEndpoint[] = [];

  set(list: readonly RuntimeEndpoint[]): void {
    this.list = list;
  }

  get current(): readonly RuntimeEndpoint[] {
    return this.list;
  }
}
