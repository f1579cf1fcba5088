import { self } from '../metrics.js';
import { promql } from '../promql.js';
import { defineAlert, type Area } from '../rule.js';

export const AGENT_ALERTS = {
  agentDown: defineAlert(
    'LLMNodeAgentDown',
    'warning',
    'agent',
    () => 'Prometheus cannot scrape an agent, or has no agent target at all',
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

/** The agent and the alerting pipeline: the agent down, a source failing, the watchdog. */
export const agentArea: Area = {
  name: 'agent',
  alerts: Object.values(AGENT_ALERTS),
  tests: ['probe-agent.test.yml'],
  groups: (s, { alert }) => {
    const agent = `job="${s.jobs.agent}"`;
    return [
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
