import type { AgentConfig } from '../../config/load.js';

/** Hours in an average month (8760 / 12), as the cost rules and FinOps tools use. */
export const HOURS_PER_MONTH = 730;

/** The configured costs in the units the agent exports; absent what is not configured. */
export interface CostModel {
  readonly hardwareUsdPerHour: number | undefined;
  readonly operationsUsdPerHour: Readonly<Record<'operations' | 'facility' | 'licences', number>>;
  readonly energyUsdPerKwh: number | undefined;
  readonly pue: number;
  readonly requestsPerTask: number;
  readonly monthlyBudgetUsd: number | undefined;
  readonly references: AgentConfig['cost']['api_references'];
}

/** Pure: the config block turned into hourly figures. */
export function costModel(c: AgentConfig['cost']): CostModel {
  const h = c.hardware;
  const monthly = {
    operations: c.operations_usd_per_month,
    facility: c.facility_usd_per_month,
    licences: c.licences_usd_per_month,
  };
  return {
    hardwareUsdPerHour:
      h.capex_usd === undefined
        ? undefined
        : (h.capex_usd - h.residual_usd) / (h.amortization_months * HOURS_PER_MONTH),
    operationsUsdPerHour: Object.fromEntries(
      Object.entries(monthly).flatMap(([k, v]) =>
        v === undefined ? [] : [[k, v / HOURS_PER_MONTH]],
      ),
    ) as CostModel['operationsUsdPerHour'],
    energyUsdPerKwh: c.energy.price_usd_per_kwh,
    pue: c.energy.pue,
    requestsPerTask: c.requests_per_task,
    monthlyBudgetUsd: c.monthly_budget_usd,
    references: c.api_references,
  };
}

/** The fixed part of the cost per hour: hardware and running costs. */
export function fixedUsdPerHour(m: CostModel): number {
  return (
    (m.hardwareUsdPerHour ?? 0) + Object.values(m.operationsUsdPerHour).reduce((a, b) => a + b, 0)
  );
}

/** Whether anything at all was configured: without it the agent exports no cost series. */
export function hasCost(m: CostModel): boolean {
  return (
    m.hardwareUsdPerHour !== undefined ||
    Object.keys(m.operationsUsdPerHour).length > 0 ||
    m.energyUsdPerKwh !== undefined ||
    m.references.length > 0
  );
}
