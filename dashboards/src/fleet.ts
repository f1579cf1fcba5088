import * as M from '../../alerts/src/metrics.js';
import { bucket, promql } from '../../alerts/src/promql.js';
import { PROBE_ALERTS } from '../../alerts/src/areas/probe.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboard,
  joinRows,
  nodeVariable,
  okMapping,
  query,
  runbookLink,
  standardAnnotations,
  stat,
  table,
  tableQuery,
  thresholds,
  timeseries,
  UIDS,
  type DashboardSettings,
} from './common.js';

const SEL = 'instance=~"$instance"';

/** One row per node: is anything on fire, and where to click next. */
export function fleet(settings: DashboardSettings): DashboardBuilder {
  const b = dashboard(
    UIDS.fleet,
    'inferwatch / Fleet',
    'Every inference node at a glance: GPUs, load, latency, probe and firing alerts, one row per node, linking to the node view.',
  )
    .withVariable(nodeVariable(M.self.BUILD_INFO.name))
    .withRow(new RowBuilder('Fleet'))
    .withPanel(
      stat({
        title: 'Nodes reporting',
        description: 'Agents Prometheus scrapes successfully now.',
        unit: 'none',
        queries: [query(promql`count(${M.self.BUILD_INFO}{${SEL}})`)],
        width: 4,
      }),
    )
    .withPanel(
      stat({
        title: 'GPUs',
        description: 'GPUs the agents see now, over all nodes.',
        unit: 'none',
        queries: [query(promql`count(${M.gpu.GPU_INFO}{${SEL}})`)],
        width: 4,
      }),
    )
    .withPanel(
      stat({
        title: 'Tokens generated per second',
        description: 'Output tokens per second over every runtime the agents read (5m rate).',
        unit: 'short',
        queries: [query(`sum(instance:inferwatch_llm_generation_tokens:rate5m{${SEL}})`)],
        width: 4,
      }),
    )
    .withPanel(
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
    )
    .withPanel(
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
    )
    .withPanel(
      stat({
        title: 'Probes failing',
        description: 'Runtimes whose synthetic latency probe fails now.',
        unit: 'none',
        queries: [
          query(promql`count(${M.probe.PROBE_SUCCESS}{probe="latency", ${SEL}} == 0) or vector(0)`),
        ],
        thresholds: thresholds([
          [null, 'green'],
          [1, 'red'],
        ]),
        links: [runbookLink(settings, PROBE_ALERTS.probeFailing)],
        width: 4,
      }),
    )
    .withPanel(
      table({
        title: 'Nodes',
        description:
          'One row per node. GPU utilization and memory are averages over its GPUs; the hottest GPU is its warmest; KV cache the fullest runtime; queue the requests waiting over its runtimes; TTFT p95 over its runtimes in the last 5 minutes; probe the worst of its runtimes. Click a node for its view.',
        unit: 'none',
        height: 12,
        queries: [
          tableQuery(promql`count by (instance) (${M.gpu.GPU_INFO}{${SEL}})`, 'A'),
          tableQuery(`avg by (instance) (instance:inferwatch_gpu_utilization:avg{${SEL}})`, 'B'),
          tableQuery(`avg by (instance) (instance:inferwatch_gpu_memory_used:ratio{${SEL}})`, 'C'),
          tableQuery(
            promql`max by (instance) (${M.gpu.GPU_TEMPERATURE}{sensor="gpu", ${SEL}})`,
            'D',
          ),
          tableQuery(promql`max by (instance) (${M.llm.KV_CACHE_USAGE}{${SEL}})`, 'E'),
          tableQuery(promql`sum by (instance) (${M.llm.REQUESTS_WAITING}{${SEL}})`, 'F'),
          tableQuery(
            promql`histogram_quantile(0.95, sum by (instance, le) (rate(${bucket(M.llm.TIME_TO_FIRST_TOKEN)}{${SEL}}[5m])))`,
            'G',
          ),
          tableQuery(
            promql`min by (instance) (${M.probe.PROBE_SUCCESS}{probe="latency", ${SEL}})`,
            'H',
          ),
          tableQuery(
            // 0 for a node with none, not an empty cell.
            promql`count by (instance) (ALERTS{alertstate="firing", alertname=~"LLMNode.*", ${SEL}}) or 0 * count by (instance) (${M.self.BUILD_INFO}{${SEL}})`,
            'I',
          ),
        ],
        transformations: joinRows('instance', {
          'Value #A': 'GPUs',
          'Value #B': 'GPU utilization',
          'Value #C': 'GPU memory used',
          'Value #D': 'Hottest GPU',
          'Value #E': 'KV cache',
          'Value #F': 'Requests waiting',
          'Value #G': 'TTFT p95',
          'Value #H': 'Probe',
          'Value #I': 'Alerts firing',
        }),
        columns: {
          instance: [
            {
              id: 'links',
              value: [
                {
                  title: 'Node view',
                  url: `/d/${UIDS.node}?var-instance=\${__value.raw}&var-datasource=\${datasource}&\${__url_time_range}`,
                },
              ],
            },
          ],
          'GPU utilization': [{ id: 'unit', value: 'percentunit' }],
          'GPU memory used': [{ id: 'unit', value: 'percentunit' }],
          'Hottest GPU': [{ id: 'unit', value: 'celsius' }],
          'KV cache': [{ id: 'unit', value: 'percentunit' }],
          'TTFT p95': [{ id: 'unit', value: 's' }],
          Probe: [{ id: 'mappings', value: okMapping('OK', 'FAILING') }],
        },
      }),
    )
    .withRow(new RowBuilder('Trends'))
    .withPanel(
      timeseries({
        title: 'GPU utilization by node',
        description: 'Average utilization of each node’s GPUs.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [query(`instance:inferwatch_gpu_utilization:avg{${SEL}}`, '{{instance}}')],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Tokens generated per second by node',
        description: 'Output tokens per second of each node’s runtimes.',
        unit: 'short',
        queries: [
          query(`instance:inferwatch_llm_generation_tokens:rate5m{${SEL}}`, '{{instance}}'),
        ],
      }),
    );
  return standardAnnotations(b, SEL);
}
