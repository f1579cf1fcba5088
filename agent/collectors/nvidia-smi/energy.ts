/**
 * nvidia-smi has no energy counter, so the agent integrates power.draw over time (trapezoid
 * rule), per GPU. A gap longer than `maxGapMs` (the stream was down) is not guessed at.
 */
export class EnergyIntegrator {
  private readonly state = new Map<string, { joules: number; watts: number; atMs: number }>();

  constructor(private readonly maxGapMs: number) {}

  observe(uuid: string, watts: number, atMs: number): void {
    const prev = this.state.get(uuid);
    if (!prev) {
      this.state.set(uuid, { joules: 0, watts, atMs });
      return;
    }
    const dtMs = atMs - prev.atMs;
    if (dtMs > 0 && dtMs <= this.maxGapMs)
      prev.joules += ((prev.watts + watts) / 2) * (dtMs / 1000);
    prev.watts = watts;
    prev.atMs = atMs;
  }

  joules(uuid: string): number | undefined {
    return this.state.get(uuid)?.joules;
  }
}
