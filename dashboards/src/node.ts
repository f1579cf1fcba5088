import * as M from '../../alerts/src/metrics.js';
import { promql } from '../../alerts/src/promql.js';
import type { AlertDef } from '../../alerts/src/rule.js';
import { AGENT_ALERTS } from '../../alerts/src/areas/agent.js';
import { GPU_ALERTS } from '../../alerts/src/areas/gpu.js';
import { RUNTIME_ALERTS } from '../../alerts/src/areas/runtime.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboard,
  flagMapping,
  eventsInRange,
  labelVariable,
  nodeVariable,
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

const NODE = 'instance="$instance"';
const GPU = 'instance="$instance", gpu=~"$gpu"';

/** One node and its GPUs: load, memory, heat, power, clocks, errors, and the host. */
export function node(settings: DashboardSettings): DashboardBuilder {
  const link = (alert: AlertDef) => runbookLink(settings, alert);
  const b = dashboard(
    UIDS.node,
    'inferwatch / Node and GPUs',
    'One inference node: per-GPU utilization and activity, memory by process and runtime, temperature, power, clocks and why they drop, GPU errors and OOM events, and the host.',
  )
    .withVariable(nodeVariable(M.self.BUILD_INFO.name, { multi: false }))
    .withVariable(
      labelVariable(
        'gpu',
        'GPU',
        promql`label_values(${M.gpu.GPU_INFO}{instance="$instance"}, gpu)`,
        {
          multi: true,
          includeAll: true,
        },
      ),
    )
    .withRow(new RowBuilder('Health'))
    .withPanel(
      stat({
        title: 'GPUs',
        description: 'GPUs on this node now (nvidia-smi, or DCGM where nvidia-smi is off).',
        unit: 'none',
        queries: [query(promql`count(${M.gpu.GPU_INFO}{${NODE}})`)],
        links: [link(GPU_ALERTS.gpuLost)],
        width: 4,
      }),
    )
    .withPanel(
      stat({
        title: 'Collectors failing',
        description: 'Agent sources failing now; their metrics are missing from this view.',
        unit: 'none',
        queries: [query(promql`count(${M.self.COLLECTOR_SUCCESS}{${NODE}} == 0) or vector(0)`)],
        thresholds: thresholds([
          [null, 'green'],
          [1, 'orange'],
        ]),
        links: [link(AGENT_ALERTS.collectorFailing)],
        width: 4,
      }),
    )
    .withPanel(
      stat({
        title: 'Row remap pending',
        description: 'GPUs waiting for a reset to activate remapped rows (1 = pending).',
        unit: 'none',
        queries: [query(promql`max(${M.gpu.GPU_REMAPPED_ROWS_PENDING}{${GPU}}) or vector(0)`)],
        mappings: flagMapping('PENDING', 'none'),
        links: [link(GPU_ALERTS.gpuRemapPending)],
        width: 4,
      }),
    )
    .withPanel(
      stat({
        title: 'Xid errors in range',
        description: 'Xid errors the driver logged on these GPUs in the time range.',
        unit: 'none',
        queries: [
          query(`sum(${eventsInRange(`inferwatch_gpu_xid_errors_total{${GPU}}`)}) or vector(0)`),
        ],
        thresholds: thresholds([
          [null, 'green'],
          [1, 'red'],
        ]),
        links: [link(GPU_ALERTS.gpuXidFatal), link(GPU_ALERTS.gpuXidNonFatal)],
        width: 4,
      }),
    )
    .withPanel(
      stat({
        title: 'OOM kills in range',
        description: 'Processes the kernel OOM killer killed on this node in the time range.',
        unit: 'none',
        queries: [
          query(promql`sum(increase(${M.host.HOST_OOM_KILLS}{${NODE}}[$__range])) or vector(0)`),
        ],
        thresholds: thresholds([
          [null, 'green'],
          [1, 'orange'],
        ]),
        links: [link(AGENT_ALERTS.hostOOMKill)],
        width: 4,
      }),
    )
    .withPanel(
      stat({
        title: 'CUDA OOM in range',
        description: 'CUDA out-of-memory errors in the runtimes’ logs in the time range.',
        unit: 'none',
        queries: [
          query(promql`sum(increase(${M.logs.CUDA_OOM_EVENTS}{${NODE}}[$__range])) or vector(0)`),
        ],
        thresholds: thresholds([
          [null, 'green'],
          [1, 'orange'],
        ]),
        links: [link(AGENT_ALERTS.cudaOutOfMemory)],
        width: 4,
      }),
    )
    .withRow(new RowBuilder('Load'))
    .withPanel(
      timeseries({
        title: 'GPU utilization',
        description:
          'Share of time a kernel ran on each GPU (nvidia-smi utilization.gpu): busy, not how busy.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [query(promql`${M.gpu.GPU_UTILIZATION}{${GPU}}`, 'GPU {{gpu}}')],
      }),
    )
    .withPanel(
      timeseries({
        title: 'SM, tensor and DRAM activity (DCGM)',
        description:
          'How much of each GPU works: SM active, tensor cores active, DRAM active. Needs a dcgm-exporter with profiling fields; empty without one.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [
          query(promql`${M.dcgm.GPU_SM_ACTIVE}{${GPU}}`, 'GPU {{gpu}} SM'),
          query(promql`${M.dcgm.GPU_TENSOR_ACTIVE}{${GPU}}`, 'GPU {{gpu}} tensor'),
          query(promql`${M.dcgm.GPU_DRAM_ACTIVE}{${GPU}}`, 'GPU {{gpu}} DRAM'),
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'MIG instances: engine activity',
        description:
          "Graphics/compute engine activity of each MIG GPU instance (dcgm-exporter's per-instance rows), as a share of that instance. A MIG GPU has no whole-GPU utilization; empty without MIG or without dcgm-exporter.",
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [
          query(
            promql`${M.dcgm.MIG_GRAPHICS_ENGINE_ACTIVE}{${GPU}}`,
            'GPU {{gpu}} {{mig_profile}} #{{gpu_instance}}',
          ),
        ],
      }),
    )
    .withRow(new RowBuilder('Memory'))
    .withPanel(
      timeseries({
        title: 'GPU memory used and total',
        description:
          'Memory used on each GPU against its total. vLLM and SGLang reserve most of it at start by design.',
        unit: 'bytes',
        min: 0,
        queries: [
          query(promql`${M.gpu.GPU_MEMORY_USED}{${GPU}}`, 'GPU {{gpu}} used'),
          query(promql`${M.gpu.GPU_MEMORY_TOTAL}{${GPU}}`, 'GPU {{gpu}} total'),
        ],
        links: [link(RUNTIME_ALERTS.gpuMemoryExhausted)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'GPU memory by runtime and process',
        description:
          'Memory each process holds on these GPUs, by the runtime that owns it (empty runtime: not an LLM runtime).',
        unit: 'bytes',
        stack: true,
        queries: [
          query(
            promql`sum by (runtime, target, process) (${M.smi.GPU_PROCESS_MEMORY_USED}{${GPU}})`,
            '{{runtime}} {{target}} ({{process}})',
          ),
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'MIG instances: memory used and free',
        description:
          "Device memory of each MIG GPU instance, used and free (dcgm-exporter's default counters; the instance's size adds the driver's reserve where DCGM_FI_DEV_FB_RESERVED is read). Empty without MIG or without dcgm-exporter.",
        unit: 'bytes',
        min: 0,
        queries: [
          query(
            promql`${M.dcgm.MIG_MEMORY_USED}{${GPU}}`,
            'GPU {{gpu}} {{mig_profile}} #{{gpu_instance}} used',
          ),
          query(
            promql`${M.dcgm.MIG_MEMORY_FREE}{${GPU}}`,
            'GPU {{gpu}} {{mig_profile}} #{{gpu_instance}} free',
          ),
        ],
      }),
    )
    .withRow(new RowBuilder('Heat and power'))
    .withPanel(
      timeseries({
        title: 'Temperature',
        description: 'GPU core and (HBM cards) memory temperature.',
        unit: 'celsius',
        queries: [query(promql`${M.gpu.GPU_TEMPERATURE}{${GPU}}`, 'GPU {{gpu}} {{sensor}}')],
        thresholds: thresholds([
          [null, 'green'],
          [80, 'orange'],
          [90, 'red'],
        ]),
        links: [link(GPU_ALERTS.gpuThermalThrottle)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Power draw and limit',
        description: 'Power each GPU draws against its enforced limit.',
        unit: 'watt',
        min: 0,
        queries: [
          query(promql`${M.gpu.GPU_POWER_DRAW}{${GPU}}`, 'GPU {{gpu}} draw'),
          query(promql`${M.gpu.GPU_POWER_LIMIT}{${GPU}}`, 'GPU {{gpu}} limit'),
        ],
        links: [link(GPU_ALERTS.gpuPowerThrottle)],
      }),
    )
    .withRow(new RowBuilder('Clocks'))
    .withPanel(
      timeseries({
        title: 'SM clock',
        description: 'The SM clock of each GPU; it drops when the GPU throttles.',
        unit: 'hertz',
        queries: [query(promql`${M.gpu.GPU_CLOCK}{clock="sm", ${GPU}}`, 'GPU {{gpu}}')],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Why clocks are held back',
        description:
          'Active clock-event reasons per GPU (1 while active): thermal and hardware slowdowns, the power cap, a power brake. Idle and application clocks are left out.',
        unit: 'none',
        min: 0,
        max: 1,
        queries: [
          query(
            promql`${M.gpu.GPU_CLOCK_EVENT_ACTIVE}{reason!~"gpu_idle|applications_clocks_setting|sync_boost", ${GPU}} == 1`,
            'GPU {{gpu}} {{reason}}',
          ),
        ],
        links: [link(GPU_ALERTS.gpuThermalThrottle), link(GPU_ALERTS.gpuPowerThrottle)],
      }),
    )
    .withRow(new RowBuilder('Errors and events'))
    .withPanel(
      table({
        title: 'GPU errors in range',
        description:
          'Xid errors by GPU and code, uncorrected ECC errors and NVLink errors counted in the time range; only what happened is listed.',
        unit: 'none',
        height: 8,
        queries: [
          tableQuery(
            `sum by (gpu, xid) ${eventsInRange(`inferwatch_gpu_xid_errors_total{${GPU}}`)} > 0`,
            'A',
          ),
          tableQuery(
            promql`sum by (gpu, type) (increase(${M.gpu.GPU_ECC_ERRORS}{type="uncorrected", ${GPU}}[$__range])) > 0`,
            'B',
          ),
          tableQuery(
            promql`sum by (gpu, type) (increase(${M.dcgm.GPU_NVLINK_ERRORS}{${GPU}}[$__range])) > 0`,
            'C',
          ),
        ],
        transformations: [{ id: 'merge', options: {} }],
        links: [
          link(GPU_ALERTS.gpuXidFatal),
          link(GPU_ALERTS.gpuMemoryUncorrectable),
          link(GPU_ALERTS.gpuNVLinkErrors),
        ],
      }),
    )
    .withPanel(
      table({
        title: 'OOM victims in range',
        description: 'Processes the kernel OOM killer killed, by name, in the time range.',
        unit: 'none',
        width: 12,
        height: 8,
        queries: [
          tableQuery(
            `sum by (process) ${eventsInRange(`inferwatch_oom_kill_victims_total{${NODE}}`)} > 0`,
            'A',
          ),
        ],
        links: [link(AGENT_ALERTS.hostOOMKill)],
      }),
    )
    .withPanel(
      table({
        title: 'CUDA out of memory in range',
        description: 'CUDA out-of-memory errors by runtime, from their logs, in the time range.',
        unit: 'none',
        width: 12,
        height: 8,
        queries: [
          tableQuery(
            promql`sum by (runtime, target) (increase(${M.logs.CUDA_OOM_EVENTS}{${NODE}}[$__range])) > 0`,
            'A',
          ),
        ],
        links: [link(AGENT_ALERTS.cudaOutOfMemory)],
      }),
    )
    .withRow(new RowBuilder('Host'))
    .withPanel(
      timeseries({
        title: 'Host CPU',
        description: 'Share of the host’s CPU time not idle.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [query(promql`${M.host.HOST_CPU_UTILIZATION}{${NODE}}`, 'CPU')],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Host memory',
        description:
          'Host memory used and available against the total; model loading and CPU offload use it.',
        unit: 'bytes',
        min: 0,
        queries: [
          query(promql`${M.host.HOST_MEMORY_USED}{${NODE}}`, 'used'),
          query(promql`${M.host.HOST_MEMORY_AVAILABLE}{${NODE}}`, 'available'),
          query(promql`${M.host.HOST_MEMORY_TOTAL}{${NODE}}`, 'total'),
        ],
        links: [link(AGENT_ALERTS.hostOOMKill)],
      }),
    );
  return standardAnnotations(b, NODE);
}
