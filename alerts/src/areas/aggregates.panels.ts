import * as M from '../metrics.js';
import { bucket, promql } from '../promql.js';
import {
  joinRows,
  okMapping,
  table,
  tableQuery,
  UIDS,
  type PanelContext,
} from '../../../dashboards/src/common.js';

/** The aggregates area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const AGGREGATES_PANELS = {
  nodes: (p: PanelContext<'picked'>) =>
    table({
      title: 'Nodes',
      description:
        'One row per node. GPU utilization and memory are averages over its GPUs; the hottest GPU is its warmest; KV cache the fullest runtime; queue the requests waiting over its runtimes; TTFT p95 over its runtimes in the last 5 minutes; probe the worst of its runtimes. Click a node for its view.',
      unit: 'none',
      height: 12,
      queries: [
        tableQuery(promql`count by (instance) (${M.gpu.GPU_INFO}{${p.sel.picked}})`, 'A'),
        tableQuery(
          `avg by (instance) (instance:inferwatch_gpu_utilization:avg{${p.sel.picked}})`,
          'B',
        ),
        tableQuery(
          `avg by (instance) (instance:inferwatch_gpu_memory_used:ratio{${p.sel.picked}})`,
          'C',
        ),
        tableQuery(
          promql`max by (instance) (${M.gpu.GPU_TEMPERATURE}{sensor="gpu", ${p.sel.picked}})`,
          'D',
        ),
        tableQuery(promql`max by (instance) (${M.llm.KV_CACHE_USAGE}{${p.sel.picked}})`, 'E'),
        tableQuery(promql`sum by (instance) (${M.llm.REQUESTS_WAITING}{${p.sel.picked}})`, 'F'),
        tableQuery(
          promql`histogram_quantile(0.95, sum by (instance, le) (rate(${bucket(M.llm.TIME_TO_FIRST_TOKEN)}{${p.sel.picked}}[5m])))`,
          'G',
        ),
        tableQuery(
          promql`min by (instance) (${M.probe.PROBE_SUCCESS}{probe="latency", ${p.sel.picked}})`,
          'H',
        ),
        tableQuery(
          // 0 for a node with none, not an empty cell.
          promql`count by (instance) (ALERTS{alertstate="firing", alertname=~"LLMNode.*", ${p.sel.picked}}) or 0 * count by (instance) (${M.self.BUILD_INFO}{${p.sel.picked}})`,
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
};
