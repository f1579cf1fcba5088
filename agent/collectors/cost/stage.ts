import type { Emitter, SourceStatus, Stage } from '../../core/collector.js';
import type { CollectorDeps } from '../../shared/collector-factory.js';
import { ENERGY_SPENT, type EnergySpent } from '../../shared/gpu-report.js';
import * as M from './metrics.js';
import { fixedUsdPerHour, type CostModel } from './model.js';

const JOULES_PER_KWH = 3.6e6;

/** What has been spent so far; it outlives a reload, so the counter never falls. */
interface Spent {
  fixedUsd: number;
  energyUsd: number;
  atMs: number;
  joules: number;
}

/**
 * The configured costs as gauges, and the fully loaded cost accumulated in the agent: fixed
 * cost per hour of monotonic time, and the GPUs' measured energy x PUE x price, each added as
 * it accrues at the prices of the moment (a price changed on reload counts from then on). A
 * counter, so a month's spend is one increase() with no recording-rule gaps. A stage after the
 * GPU view, which reports the energy it counted.
 */
export class CostStage implements Stage<EnergySpent> {
  readonly name = 'cost';
  readonly metrics = M.COST_METRICS;
  readonly input = ENERGY_SPENT;
  private readonly spent: Spent;

  constructor(
    private readonly model: CostModel,
    private readonly deps: CollectorDeps,
  ) {
    this.spent = deps.durable.get<Spent>('cost/spent', () => ({
      fixedUsd: 0,
      energyUsd: 0,
      atMs: deps.clock.monotonicMs(),
      joules: 0,
    }));
  }

  merge(energy: readonly EnergySpent[], out: Emitter): void {
    const m = this.model;
    if (m.hardwareUsdPerHour !== undefined) out.emit(M.COST_HARDWARE, {}, m.hardwareUsdPerHour);
    for (const [component, perHour] of Object.entries(m.operationsUsdPerHour))
      out.emit(M.COST_OPERATIONS, { component }, perHour);
    out.emit(M.COST_REQUESTS_PER_TASK, {}, m.requestsPerTask);
    if (m.monthlyBudgetUsd !== undefined) out.emit(M.COST_BUDGET, {}, m.monthlyBudgetUsd);
    for (const r of m.references) {
      out.emit(
        M.COST_API_REFERENCE,
        { reference: r.name, direction: 'input' },
        r.input_usd_per_million,
      );
      out.emit(
        M.COST_API_REFERENCE,
        { reference: r.name, direction: 'output' },
        r.output_usd_per_million,
      );
      out.emit(M.COST_API_REFERENCE_INFO, { reference: r.name, as_of: r.as_of }, 1);
    }
    this.accrue(energy.at(-1)?.joules ?? this.spent.joules);
    const hasFixed =
      m.hardwareUsdPerHour !== undefined || Object.keys(m.operationsUsdPerHour).length > 0;
    if (hasFixed) out.emit(M.COST_TOTAL, { component: 'fixed' }, this.spent.fixedUsd);
    if (m.energyUsdPerKwh !== undefined) {
      out.emit(M.COST_ENERGY_PRICE, {}, m.energyUsdPerKwh);
      out.emit(M.COST_PUE, {}, m.pue);
      out.emit(M.COST_TOTAL, { component: 'energy' }, this.spent.energyUsd);
    }
  }

  /**
   * Adds what accrued since the last scrape, at today's prices. `joules`: the GPUs' energy
   * since the agent started, monotone across nvidia-smi and DCGM.
   */
  private accrue(joules: number): void {
    const m = this.model;
    const now = this.deps.clock.monotonicMs();
    this.spent.fixedUsd += (fixedUsdPerHour(m) * Math.max(0, now - this.spent.atMs)) / 3_600_000;
    if (m.energyUsdPerKwh !== undefined)
      this.spent.energyUsd +=
        (Math.max(0, joules - this.spent.joules) / JOULES_PER_KWH) * m.pue * m.energyUsdPerKwh;
    this.spent.atMs = now;
    this.spent.joules = joules;
  }

  status(): SourceStatus {
    const m = this.model;
    const parts = [
      `fixed ${fixedUsdPerHour(m).toFixed(2)} USD/h`,
      m.energyUsdPerKwh !== undefined
        ? `energy at ${m.energyUsdPerKwh} USD/kWh x PUE ${m.pue}`
        : 'no energy price',
      `${m.references.length} API reference(s)`,
    ];
    return { state: 'ok', detail: parts.join('; ') };
  }
}
