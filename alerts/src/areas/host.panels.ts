import { HOST_ALERTS } from './host.js';
import * as M from '../metrics.js';
import { promql } from '../promql.js';
import {
  eventsInRange,
  joinRows,
  type PanelContext,
  query,
  stat,
  table,
  tableColumns,
  tableQuery,
  thresholds,
  timeseries,
} from '../../../dashboards/src/common.js';

/** The host area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const HOST_PANELS = {
  hostInventory: (p: PanelContext<'node'>) =>
    table({
      title: 'Host inventory',
      description:
        'What the node is, as the agent read it at start (and on reload): OS and version, kernel, architecture, server vendor and model, CPU, cores and memory. A kernel change is marked on every graph.',
      unit: 'none',
      height: 5,
      queries: [
        tableQuery(promql`${M.host.HOST_INFO}{${p.sel.node}}`, 'A'),
        tableQuery(
          promql`max by (instance) (${M.host.HOST_CPU_CORES}{kind="physical", ${p.sel.node}})`,
          'B',
        ),
        tableQuery(
          promql`max by (instance) (${M.host.HOST_CPU_CORES}{kind="logical", ${p.sel.node}})`,
          'C',
        ),
        tableQuery(promql`max by (instance) (${M.host.HOST_MEMORY_TOTAL}{${p.sel.node}})`, 'D'),
      ],
      transformations: joinRows(
        'instance',
        {
          os: 'OS',
          os_version: 'Version',
          kernel: 'Kernel',
          arch: 'Architecture',
          system_vendor: 'Vendor',
          system_model: 'Model',
          cpu_model: 'CPU',
          'Value #B': 'Cores',
          'Value #C': 'Threads',
          'Value #D': 'Memory',
        },
        ['Value #A'],
      ),
      columns: { Memory: [{ id: 'unit', value: 'bytes' }] },
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
      links: [p.link(HOST_ALERTS.hostOOMKill)],
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
      transformations: [tableColumns({ Value: 'kills' })],
      links: [p.link(HOST_ALERTS.hostOOMKill)],
    }),
  hostCPU: (p: PanelContext<'node'>) =>
    timeseries({
      title: 'Host CPU',
      description:
        'Share of the host’s CPU time, all cores together, neither idle nor waiting on I/O.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        query(
          promql`1 - sum by (instance) (rate(${M.host.HOST_CPU_SECONDS}{mode=~"idle|iowait", ${p.sel.node}}[$__rate_interval])) / sum by (instance) (rate(${M.host.HOST_CPU_SECONDS}{${p.sel.node}}[$__rate_interval]))`,
          '{{instance}}',
        ),
      ],
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
      links: [p.link(HOST_ALERTS.hostOOMKill)],
    }),
};
