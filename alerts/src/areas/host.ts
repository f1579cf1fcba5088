import { host, kernel } from '../metrics.js';
import { promql } from '../promql.js';
import { defineAlert, type Area } from '../rule.js';
import type { RuleSettings } from '../settings.js';

export const HOST_ALERTS = {
  hostOOMKill: defineAlert(
    'LLMNodeHostOOMKill',
    'warning',
    'host',
    () => 'the kernel OOM killer killed a process, held 15m',
  ),
  hostDown: defineAlert(
    'LLMNodeHostDown',
    'critical',
    'host',
    () => 'neither node_exporter nor the agent answers on a node',
  ),
} as const;

/** The node itself: the kernel killing a process for memory, the node unreachable. */
export const hostArea: Area = {
  name: 'host',
  alerts: Object.values(HOST_ALERTS),
  tests: ['host.test.yml'],
  groups: (s, { alert }) => [
    {
      name: 'inferwatch-host',
      rules: [
        alert(
          HOST_ALERTS.hostOOMKill,
          promql`increase(${host.HOST_OOM_KILLS}[10m]) > 0`,
          {
            summary: 'The kernel OOM killer killed a process on an inference node.',
            description: `{{ $labels.instance }} had {{ $value | printf "%.0f" }} OOM kill(s) in the last 10m; ${kernel.OOM_KILL_VICTIMS.name} names the process.`,
          },
          { keep_firing_for: '15m' },
        ),
        alert(
          HOST_ALERTS.hostDown,
          nodeExporterDown(s.jobs) + ` and on (node) up{job="${s.jobs.agent}"} == 0`,
          {
            summary:
              'An inference node is unreachable: neither node_exporter nor the agent answers.',
            description:
              'Node {{ $labels.node }} has answered neither node_exporter nor inferwatch scrapes for 3m.',
          },
          { for: '3m' },
        ),
      ],
    },
  ],
};

/**
 * node_exporter's down targets, named by node: where its scrape writes the node's name into
 * another label (kube-prometheus: instance), that label is copied into node, which the agent's
 * series and the inhibitions use.
 */
function nodeExporterDown(jobs: RuleSettings['jobs']): string {
  const by = jobs.node_exporter_node_label;
  const up = `up{job="${jobs.node_exporter}", ${by}!=""}`;
  return by === 'node' ? `${up} == 0` : `label_replace(${up}, "node", "$1", "${by}", "(.*)") == 0`;
}
