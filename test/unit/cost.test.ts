import { describe, expect, it } from 'vitest';
import { CostStage } from '../../agent/collectors/cost/stage.js';
import { cost } from '../../agent/collectors/cost/index.js';
import * as M from '../../agent/collectors/cost/metrics.js';
import { costModel } from '../../agent/collectors/cost/model.js';
import { parseConfig } from '../../agent/config/load.js';
import { collectorDeps } from '../helpers/collector-deps.js';
import { Recorder } from '../helpers/recorder.js';

const CONFIG = {
  cost: {
    hardware: { capex_usd: 250_000, residual_usd: 40_000, amortization_months: 48 },
    operations_usd_per_month: 1460,
    licences_usd_per_month: 365,
    energy: { price_usd_per_kwh: 0.12, pue: 1.5 },
    requests_per_task: 4,
    api_references: [
      {
        name: 'gpt-4o-mini',
        input_usd_per_million: 0.15,
        output_usd_per_million: 0.6,
        as_of: '2024-07-18',
      },
    ],
  },
};

describe('the cost model', () => {
  it('spreads the purchase over its months of 730 hours, and monthly costs over 730 hours', () => {
    const m = costModel(parseConfig(CONFIG).cost);
    expect(m.hardwareUsdPerHour).toBeCloseTo(210_000 / (48 * 730), 12);
    expect(m.operationsUsdPerHour).toEqual({ operations: 2, licences: 0.5 });
  });

  it('nothing configured: no cost collector, so no cost series at all', () => {
    expect(cost.create(parseConfig({}), collectorDeps())).toEqual([]);
    expect(cost.create(parseConfig(CONFIG), collectorDeps())).toHaveLength(1);
  });
});

describe('CostStage', () => {
  it('accumulates the fixed cost over monotonic time and the energy cost over measured joules', () => {
    let now = 0;
    const deps = collectorDeps({ clock: { monotonicMs: () => now, epochMs: () => 0 } });
    const stage = new CostStage(costModel(parseConfig(CONFIG).cost), deps);
    /** A scrape, the GPU view having counted `joules` since the agent started. */
    const read = (joules?: number) => {
      const out = new Recorder();
      stage.merge(joules === undefined ? [] : [{ joules }], out);
      return out;
    };
    expect(read(0).value(M.COST_TOTAL, { component: 'energy' })).toBe(0);
    // Two hours; 2 kWh on one GPU and 1 kWh on the other.
    now = 2 * 3_600_000;
    const out = read(7.2e6 + 3.6e6);
    const fixedPerHour = 210_000 / (48 * 730) + 2 + 0.5;
    expect(out.value(M.COST_TOTAL, { component: 'fixed' })).toBeCloseTo(2 * fixedPerHour, 9);
    expect(out.value(M.COST_TOTAL, { component: 'energy' })).toBeCloseTo(3 * 1.5 * 0.12, 12);
    expect(out.value(M.COST_HARDWARE)).toBeCloseTo(210_000 / (48 * 730), 12);
    expect(out.value(M.COST_OPERATIONS, { component: 'licences' })).toBe(0.5);
    expect(out.value(M.COST_OPERATIONS, { component: 'facility' })).toBeUndefined();
    expect(out.value(M.COST_ENERGY_PRICE)).toBe(0.12);
    expect(out.value(M.COST_PUE)).toBe(1.5);
    expect(out.value(M.COST_REQUESTS_PER_TASK)).toBe(4);
    expect(out.value(M.COST_API_REFERENCE, { reference: 'gpt-4o-mini', direction: 'output' })).toBe(
      0.6,
    );
    expect(
      out.value(M.COST_API_REFERENCE_INFO, { reference: 'gpt-4o-mini', as_of: '2024-07-18' }),
    ).toBe(1);
    // No new energy (or no GPU view in a scrape), no new energy cost; the counter never falls.
    now = 3 * 3_600_000;
    expect(read().value(M.COST_TOTAL, { component: 'energy' })).toBeCloseTo(3 * 1.5 * 0.12, 12);
    const after = read(7.2e6 + 3.6e6).value(M.COST_TOTAL, { component: 'energy' });
    expect(after).toBeCloseTo(3 * 1.5 * 0.12, 12);
  });

  it('with no energy price, no energy series; with no fixed cost, no fixed series', () => {
    const onlyEnergy = new CostStage(
      costModel(parseConfig({ cost: { energy: { price_usd_per_kwh: 0.2 } } }).cost),
      collectorDeps(),
    );
    const out = new Recorder();
    onlyEnergy.merge([], out);
    expect(out.value(M.COST_TOTAL, { component: 'fixed' })).toBeUndefined();
    expect(out.value(M.COST_TOTAL, { component: 'energy' })).toBe(0);
    expect(out.value(M.COST_PUE)).toBe(1);
  });
});
