import type { ProxyRoute } from './route.js';
import { newRouteCounts, type RouteCounts } from './route-settings.js';

/**
 * The proxy's listeners, kept through configuration reloads. An agent built on a new
 * configuration claims the routes it wants before the old one stops; the old one then closes
 * only the routes no newer configuration claimed. A route kept is never closed, so a reload
 * costs its clients nothing, not even a refused connection.
 */
export class RoutePool {
  private readonly routes = new Map<string, ProxyRoute>();
  private readonly claims = new Map<string, number>();
  private readonly counts = new Map<string, RouteCounts>();
  private generation = 0;

  /** Claims these routes for a new configuration; returns its generation. */
  claim(keys: Iterable<string>): number {
    const generation = ++this.generation;
    for (const key of keys) this.claims.set(key, generation);
    return generation;
  }

  get(key: string): ProxyRoute | undefined {
    return this.routes.get(key);
  }

  add(route: ProxyRoute): void {
    this.routes.set(route.key, route);
  }

  /** A route's counters by its address and target, from the first time it was served. */
  countsOf(listen: string, target: string): RouteCounts {
    const key = `${listen}|${target}`;
    let counts = this.counts.get(key);
    if (!counts) this.counts.set(key, (counts = newRouteCounts()));
    return counts;
  }

  /**
   * Closes the routes still claimed by `generation` (none newer wants them); returns them once
   * they no longer take connections.
   */
  async release(generation: number, graceMs: number): Promise<ProxyRoute[]> {
    const closing: ProxyRoute[] = [];
    for (const [key, route] of this.routes) {
      const claimedBy = this.claims.get(key);
      if (claimedBy !== undefined && claimedBy > generation) continue;
      this.routes.delete(key);
      this.claims.delete(key);
      closing.push(route);
    }
    await Promise.all(closing.map((route) => route.close(graceMs)));
    return closing;
  }
}
