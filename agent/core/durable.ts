/**
 * State that outlives a configuration reload: the ledgers counters are made of (events
 * counted, a runtime's folded totals). A collector built anew on reload takes its ledger back
 * by key, so no exported counter falls.
 */
export class Durable {
  private readonly items = new Map<string, unknown>();

  /** The value kept under `key`, made by `create` the first time. */
  get<T>(key: string, create: () => T): T {
    if (!this.items.has(key)) this.items.set(key, create());
    return this.items.get(key) as T;
  }
}
