/** A cumulative Prometheus histogram, as a runtime's client library keeps one. */
export class Histogram {
  /** Observations at or below each bound (cumulative, as exposed). */
  private readonly cumulative: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.cumulative = bounds.map(() => 0);
  }

  /** Records `times` observations of `value` (one per output token, say). */
  observe(value: number, times = 1): void {
    if (times <= 0) return;
    this.bounds.forEach((bound, i) => {
      if (value <= bound) this.cumulative[i] = (this.cumulative[i] ?? 0) + times;
    });
    this.sum += value * times;
    this.count += times;
  }

  /** The exposition lines of this histogram under `name`, with `labels` (already rendered). */
  lines(name: string, labels: string): string[] {
    const sep = labels === '' ? '' : ',';
    const out = this.bounds.map(
      (bound, i) => `${name}_bucket{${labels}${sep}le="${bound}"} ${this.cumulative[i] ?? 0}`,
    );
    out.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${this.count}`);
    out.push(`${name}_sum{${labels}} ${this.sum}`);
    out.push(`${name}_count{${labels}} ${this.count}`);
    return out;
  }
}
