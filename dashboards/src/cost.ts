import { AGENT_PANELS } from '../../alerts/src/areas/agent.panels.js';
import { COST_PANELS } from '../../alerts/src/areas/cost.panels.js';
import { QUALITY_PANELS } from '../../alerts/src/areas/quality.panels.js';
import { SLO_PANELS } from '../../alerts/src/areas/slo.panels.js';
import * as M from '../../alerts/src/metrics.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboard,
  nodeVariable,
  standardAnnotations,
  UIDS,
  panelContext,
  type DashboardSettings,
} from './common.js';

const SEL = 'instance=~"$instance"';

/** For executives: what local inference costs per task and per token, against the API. */
export function cost(settings: DashboardSettings): DashboardBuilder {
  const p = panelContext(settings, { picked: SEL });
  const b = dashboard(
    UIDS.cost,
    'inferwatch / Cost',
    'What serving models on our own GPUs costs per task and per million tokens, against what a cloud API would charge for the same tokens, with spend, service quality and idle hardware beside it. Costs come from the agents’ `cost` config (hardware, running costs, energy price) and measured GPU energy; with no `cost` config, this dashboard is empty.',
  )
    .time({ from: 'now-30d', to: 'now' })
    .withVariable(nodeVariable(M.cost.COST_TOTAL.name))
    .withRow(new RowBuilder('What it costs (over the time range)'))
    .withPanel(COST_PANELS.costPerTask(p))
    .withPanel(COST_PANELS.costPerMillionTokens(p))
    .withPanel(COST_PANELS.apiPricePerMillionTokens(p))
    .withPanel(COST_PANELS.savedAgainstAPI(p))
    .withPanel(COST_PANELS.spent(p))
    .withPanel(COST_PANELS.monthAtCurrentRate(p))
    .withPanel(COST_PANELS.againstBudget(p))
    .withPanel(COST_PANELS.tokensForUsers(p))
    .withPanel(COST_PANELS.idleCost(p))
    .withRow(new RowBuilder('Trends'))
    .withPanel(COST_PANELS.costPerMillionTokensAgainstAPI(p))
    .withPanel(COST_PANELS.costPerTaskHourByHour(p))
    .withPanel(COST_PANELS.spendingPerHour(p))
    .withPanel(COST_PANELS.spendingPerHourByModel(p))
    .withPanel(COST_PANELS.spentByModelInRange(p))
    .withPanel(COST_PANELS.tokensGeneratedPerDay(p))
    .withRow(new RowBuilder('Service users got'))
    .withPanel(SLO_PANELS.availabilityWeekly(p))
    .withPanel(SLO_PANELS.ttftP95Daily(p))
    .withPanel(QUALITY_PANELS.answerQuality(p))
    .withPanel(AGENT_PANELS.pagesInRange(p))
    .withPanel(AGENT_PANELS.pagesPerWeek(p))
    .withPanel(COST_PANELS.gpuUtilization(p));
  return standardAnnotations(b, SEL);
}
