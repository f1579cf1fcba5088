import * as M from '../metrics.js';
import { promql } from '../promql.js';
import { AGENT_ALERTS } from './agent.js';
import {
  eventsInRange,
  query,
  stat,
  table,
  tableQuery,
  thresholds,
  timeseries,
  type PanelContext,
} from '../../../dashboards/src/common.js';

/**
 * The agent area's panels, for the dashboards to place (dashboards/src lays them out). Each is
 * built from the dashboard's context: the label matchers its pickers narrow to, and the runbook
 * link of an alert, by reference.
 */
export const AGENT_PANELS = {
  nodesReporting: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Nodes reporting',
      description: 'Agents Prometheus scrapes successfully now.',
      unit: 'none',
      queries: [query(promql`count(${M.self.BUILD_INFO}{${p.sel.picked}})`)],
      width: 4,
    }),
  pagesFiring: (_: PanelContext) =>
    stat({
      title: 'Pages firing',
      description: 'Critical inferwatch alerts firing now.',
      unit: 'none',
      queries: [
        query(
          'count(ALERTS{alertstate="firing", alertname=~"LLMNode.*", severity="critical"}) or vector(0)',
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'red'],
      ]),
      width: 4,
    }),
  ticketsFiring: (_: PanelContext) =>
    stat({
      title: 'Tickets firing',
      description: 'Warning inferwatch alerts firing now.',
      unit: 'none',
      queries: [
        query(
          'count(ALERTS{alertstate="firing", alertname=~"LLMNode.*", severity="warning"}) or vector(0)',
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
  oomKillCount: (p: PanelContext<'node'>) =>
    stat({
      title: 'OOM kills in range',
      description: 'Processes the kernel OOM killer killed on this node in the time range.',
      unit: 'none',
      queries: [
        query(
          promql`sum(increase(${M.host.HOST_OOM_KILLS}{${p.sel.node}}[$__range])) or vector(0)`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'orange'],
      ]),
      links: [p.link(AGENT_ALERTS.hostOOMKill)],
      width: 4,
    }),
  cudaOOMCount: (p: PanelContext<'node'>) =>
    stat({
      title: 'CUDA OOM in range',
      description: 'CUDA out-of-memory errors in the runtimes’ logs in the time range.',
      unit: 'none',
      queries: [
        query(
          promql`sum(increase(${M.logs.CUDA_OOM_EVENTS}{${p.sel.node}}[$__range])) or vector(0)`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'orange'],
      ]),
      links: [p.link(AGENT_ALERTS.cudaOutOfMemory)],
      width: 4,
    }),
  oomVictims: (p: PanelContext<'node'>) =>
    table({
      title: 'OOM victims in range',
      description: 'Processes the kernel OOM killer killed, by name, in the time range.',
      unit: 'none',
      width: 12,
      height: 8,
      queries: [
        tableQuery(
          `sum by (process) ${eventsInRange(`inferwatch_oom_kill_victims_total{${p.sel.node}}`)} > 0`,
          'A',
        ),
      ],
      links: [p.link(AGENT_ALERTS.hostOOMKill)],
    }),
  cudaOOMByRuntime: (p: PanelContext<'node'>) =>
    table({
      title: 'CUDA out of memory in range',
      description: 'CUDA out-of-memory errors by runtime, from their logs, in the time range.',
      unit: 'none',
      width: 12,
      height: 8,
      queries: [
        tableQuery(
          promql`sum by (runtime, target) (increase(${M.logs.CUDA_OOM_EVENTS}{${p.sel.node}}[$__range])) > 0`,
          'A',
        ),
      ],
      links: [p.link(AGENT_ALERTS.cudaOutOfMemory)],
    }),
  hostCPU: (p: PanelContext<'node'>) =>
    timeseries({
      title: 'Host CPU',
      description: 'Share of the host’s CPU time not idle.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [query(promql`${M.host.HOST_CPU_UTILIZATION}{${p.sel.node}}`, 'CPU')],
    }),
  hostMemory: (p: PanelContext<'node'>) =>
    timeseries({
      title: 'Host memory',
      description:
        'Host memory used and available against the total; model loading and CPU offload use it.',
      unit: 'bytes',
      min: 0,
      queries: [
        query(promql`${M.host.HOST_MEMORY_USED}{${p.sel.node}}`, 'used'),
        query(promql`${M.host.HOST_MEMORY_AVAILABLE}{${p.sel.node}}`, 'available'),
        query(promql`${M.host.HOST_MEMORY_TOTAL}{${p.sel.node}}`, 'total'),
      ],
      links: [p.link(AGENT_ALERTS.hostOOMKill)],
    }),
  pagesInRange: (_: PanelContext) =>
    stat({
      title: 'Pages',
      description:
        'Distinct paging alerts that fired in the time range (each counted once however long it lasted).',
      unit: 'none',
      width: 6,
      queries: [
        query(
          'count(count_over_time(ALERTS{alertstate="firing", severity="critical", alertname=~"LLMNode.*"}[$__range])) or vector(0)',
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'orange'],
      ]),
    }),
};
