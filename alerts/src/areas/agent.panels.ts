import * as M from '../metrics.js';
import { promql } from '../promql.js';
import { AGENT_ALERTS } from './agent.js';
import {
  query,
  stat,
  thresholds,
  timeseries,
  type PanelContext,
} from '../../../dashboards/src/common.js';

/** The agent area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const AGENT_PANELS = {
  nodesReporting: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Nodes reporting',
      description: 'Agents Prometheus scrapes successfully now.',
      unit: 'none',
      queries: [query(promql`count(${M.self.BUILD_INFO}{${p.sel.picked}})`)],
      width: 4,
    }),
  pagesFiring: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Pages firing',
      description:
        'Critical inferwatch alerts firing now about the picked nodes (with every node picked, those about a model across nodes too).',
      unit: 'none',
      queries: [
        query(
          `count(ALERTS{alertstate="firing", alertname=~"LLMNode.*", severity="critical", ${p.sel.picked}}) or vector(0)`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'red'],
      ]),
      width: 4,
    }),
  ticketsFiring: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Tickets firing',
      description:
        'Warning inferwatch alerts firing now about the picked nodes (with every node picked, those about a model across nodes too).',
      unit: 'none',
      queries: [
        query(
          `count(ALERTS{alertstate="firing", alertname=~"LLMNode.*", severity="warning", ${p.sel.picked}}) or vector(0)`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'orange'],
      ]),
      width: 4,
    }),
  collectorsFailing: (p: PanelContext<'node'>) =>
    stat({
      title: 'Collectors failing',
      description: 'Agent sources failing now; their metrics are missing from this view.',
      unit: 'none',
      queries: [query(promql`count(${M.self.COLLECTOR_SUCCESS}{${p.sel.node}} == 0) or vector(0)`)],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'orange'],
      ]),
      links: [p.link(AGENT_ALERTS.collectorFailing)],
      width: 4,
    }),
  pagesPerWeek: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Incidents, week by week',
      description:
        'Distinct paging alerts that fired in the 7 days before each point, about the picked nodes (with every node picked, those about a model across nodes too): how often users were hurt, and whether it gets better.',
      unit: 'none',
      min: 0,
      queries: [
        query(
          `count(count_over_time(ALERTS{alertstate="firing", severity="critical", alertname=~"LLMNode.*", ${p.sel.picked}}[7d])) or vector(0)`,
          'pages in the week before',
        ),
      ],
    }),
  pagesInRange: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Pages',
      description:
        'Distinct paging alerts that fired in the time range about the picked nodes (each counted once however long it lasted; with every node picked, those about a model across nodes too).',
      unit: 'none',
      width: 6,
      queries: [
        query(
          `count(count_over_time(ALERTS{alertstate="firing", severity="critical", alertname=~"LLMNode.*", ${p.sel.picked}}[$__range])) or vector(0)`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'orange'],
      ]),
    }),
};
