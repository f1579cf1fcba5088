import type { Logger } from './logger.js';

/**
 * Logs a source's failures once per change of state, not once per scrape: the first failure,
 * a change of reason, and the recovery.
 */
export class StateLog {
  private readonly lastReason = new Map<string, string | null>();

  constructor(private readonly logger: Logger) {}

  /**
   * `todo`: what a person can do about it; the message ends with it. A function is asked only
   * when the line is written, so a caller that fails every scrape pays for it once.
   */
  failing(
    source: string,
    reason: string,
    message: string,
    todo?: string | (() => string | undefined),
  ): void {
    if (this.lastReason.get(source) === reason) return;
    this.lastReason.set(source, reason);
    // Waiting for a first sample is how every stream begins, not a failure worth a warning.
    const level = reason === 'starting' ? 'info' : 'warn';
    const advice = typeof todo === 'function' ? todo() : todo;
    this.logger[level]({ source, reason }, withTodo(`${source}: ${message}`, advice));
  }

  ok(source: string, message = 'recovered'): void {
    const last = this.lastReason.get(source);
    this.lastReason.set(source, null);
    if (last === 'starting') this.logger.info({ source }, `${source}: first data in`);
    else if (last) this.logger.info({ source, previous_reason: last }, `${source}: ${message}`);
  }
}

/** A message that ends with what to do about it, where something can be done. */
export function withTodo(message: string, todo: string | undefined): string {
  return todo ? `${message.replace(/[.;\s]+$/, '')}. What to do: ${todo}` : message;
}

/** Lets one warning through per window and counts what it held back. */
export class RateLimitedWarning {
  private lastAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    if (t - this.lastAt < this.windowMs) {
      this.suppressed++;
      return;
    }
    this.lastAt = t;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
