import { host, kernel, logs, self } from '../metrics.js';
import { promql } from '../promql.js';
import { defineAlert, type Area } from '../rule.js';

export const AGENT_ALERTS = {
  hostOOMKill: defineAlert(
    'LLMNodeHostOOMKill',
    'warning',
    'host',
    () => 'the kernel OOM killer killed a process, held 15m',
  ),
  cudaOutOfMemory: defineAlert(
    'LLMNodeCUDAOutOfMemory',
    'warning',
    'runtime',
    () => 'a runtime logged CUDA out of memory, held 15m',
  ),
  agentDown: defineAlert(
    'LLMNodeAgentDown',
    'warning',
    'agent',
    () => 'Prometheus cannot scrape an agent, or has no agent target at all',
  ),
  hostDown: defineAlert(
    'LLMNodeHostDown',
    'critical',
    'host',
    () => 'neither node_exporter nor the agent answers on a node',
  ),
  collectorFailing: defineAlert(
    'LLMNodeCollectorFailing',
    'warning',
    'agent',
    () => 'a collector has failed (its metrics are missing)',
  ),
  watchdog: defineAlert(
    'Watchdog',
    'none',
    'agent',
    () => 'always: the heartbeat of the alerting pipeline',
  ),
} as const;

/** The node and the agent: OOM kills, the host or the agent down, a source failing, the watchdog. */
export const agentArea: Area = {
  name: 'agent',
  alerts: Object.values(AGENT_ALERTS),
  tests: ['probe-agent.test.yml'],
  groups: (s, { alert }) => {
    const agent = `job="${s.jobs.agent}"`;
    return [
      {
        name: 'inferwatch-oom',
        rules: [
          alert(
            AGENT_ALERTS.hostOOMKill,
            promql`increase(${host.HOST_OOM_KILLS}[10m]) > 0`,
            {
              summary: 'The kernel OOM killer killed a process on an inference node.',
              description: `{{ $labels.instance }} had {{ $value | printf "%.0f" }} OOM kill(s) in the last 10m; ${kernel.OOM_KILL_VICTIMS.name} names the process.`,
            },
            { keep_firing_for: '15m' },
          ),
          alert(
            AGENT_ALERTS.cudaOutOfMemory,
            promql`increase(${logs.CUDA_OOM_EVENTS}[10m]) > 0`,
            {
              summary: 'An inference runtime ran out of GPU memory.',
              description:
                '{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} logged {{ $value | printf "%.0f" }} CUDA out-of-memory error(s) in the last 10m.',
            },
            { keep_firing_for: '15m' },
          ),
        ],
      },
      {
        name: 'inferwatch-agent',
        rules: [
          alert(
            AGENT_ALERTS.agentDown,
            `up{${agent}} == 0 or absent(up{${agent}})`,
            {
              summary:
                'The inferwatch agent cannot be scraped: GPU and runtime alerts on its node are blind.',
              description: `{{ if $labels.instance }}Prometheus has not scraped {{ $labels.instance }} (job ${s.jobs.agent}) for 5m.{{ else }}Prometheus has had no target in job ${s.jobs.agent} for 5m: service discovery lost the agents.{{ end }}`,
            },
            { for: '5m' },
          ),
          alert(
            AGENT_ALERTS.hostDown,
            `up{job="${s.jobs.node_exporter}", node!=""} == 0 and on (node) up{${agent}} == 0`,
            {
              summary:
                'An inference node is unreachable: neither node_exporter nor the agent answers.',
              description:
                'Node {{ $labels.node }} has answered neither node_exporter nor inferwatch scrapes for 3m.',
            },
            { for: '3m' },
          ),
          alert(
            AGENT_ALERTS.collectorFailing,
            promql`${self.COLLECTOR_SUCCESS} == 0`,
            {
              summary:
                "One of the agent's sources has been failing for 15 minutes; its metrics are missing.",
              description: `Collector {{ $labels.collector }} on {{ $labels.instance }} has failed for 15m; ${self.SOURCE_ERRORS.name} and \`inferwatch doctor\` say why.`,
            },
            { for: '15m' },
          ),
          alert(AGENT_ALERTS.watchdog, 'vector(1)', {
            summary: 'Always firing: proves the alerting pipeline works end to end.',
            description:
              "This alert always fires. A dead man's switch outside this Prometheus and Alertmanager must page when it stops arriving.",
          }),
        ],
      },
    ];
  },
};
