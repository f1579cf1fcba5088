import type { Collector, Emitter, SourceStatus } from '../../core/collector.js';
import type { CollectorDeps } from '../registry.js';
import * as M from './metrics.js';
import { fixedUsdPerHour, type CostModel } from './model.js';

const JOULES_PER_KWH = 3.6e6;

/**
 * The configured costs as gauges, and the fully loaded cost accumulated in the agent: fixed
 * cost per hour of monotonic time, and the GPUs' measured energy x PUE x price. A counter, so a
 * month's spend is one increase() with no recording-rule gaps.
 */
export class CostCollector implements Collector {
  readonly name = 'cost';
  readonly metrics = M.COST_METRICS;
  private readonly startedMs: number;

  constructor(
    private readonly model: CostModel,
    private readonly deps: CollectorDeps,
  ) {
    this.startedMs = deps.clock.monotonicMs();
  }

  collect(out: Emitter): void {
    const m = this.model;
    if (m.hardwareUsdPerHour !== undefined) out.emit(M.COST_HARDWARE, {}, m.hardwareUsdPerHour);
    for (const [component, perHour] of Object.entries(m.operationsUsdPerHour))
      out.emit(M.COST_OPERATIONS, { component }, perHour);
    out.emit(M.COST_REQUESTS_PER_TASK, {}, m.requestsPerTask);
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
    const fixed = fixedUsdPerHour(m);
    const hasFixed =
      m.hardwareUsdPerHour !== undefined || Object.keys(m.operationsUsdPerHour).length > 0;
    if (hasFixed) {
      const hours = (this.deps.clock.monotonicMs() - this.startedMs) / 3_600_000;
      out.emit(M.COST_TOTAL, { component: 'fixed' }, fixed * hours);
    }
    if (m.energyUsdPerKwh !== undefined) {
      out.emit(M.COST_ENERGY_PRICE, {}, m.energyUsdPerKwh);
      out.emit(M.COST_PUE, {}, m.pue);
      // The ledger counts joules since the agent started, monotone across nvidia-smi and DCGM,
      // so the energy cost is too.
      const kwh = this.deps.sources.energy.sum() / JOULES_PER_KWH;
      out.emit(M.COST_TOTAL, { component: 'energy' }, kwh * m.pue * m.energyUsdPerKwh);
    }
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
