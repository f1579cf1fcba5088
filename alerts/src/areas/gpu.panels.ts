import * as M from '../metrics.js';
import { promql } from '../promql.js';
import { GPU_ALERTS } from './gpu.js';
import { RUNTIME_ALERTS } from './runtime.js';
import {
  eventsInRange,
  flagMapping,
  type PanelContext,
  query,
  stat,
  table,
  tableColumns,
  tableQuery,
  thresholds,
  timeseries,
} from '../../../dashboards/src/common.js';

/** The gpu area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const GPU_PANELS = {
  fleetGpuCount: (p: PanelContext<'picked'>) =>
    stat({
      title: 'GPUs',
      description: 'GPUs the agents see now, over all nodes.',
      unit: 'none',
      queries: [query(promql`count(${M.gpu.GPU_INFO}{${p.sel.picked}})`)],
      width: 4,
    }),
  gpuUtilizationByNode: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'GPU utilization by node',
      description: 'Average utilization of each node’s GPUs.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [query(`instance:inferwatch_gpu_utilization:avg{${p.sel.picked}}`, '{{instance}}')],
    }),
  nodeGpuCount: (p: PanelContext<'node'>) =>
    stat({
      title: 'GPUs',
      description: 'GPUs on this node now (nvidia-smi, or DCGM where nvidia-smi is off).',
      unit: 'none',
      queries: [query(promql`count(${M.gpu.GPU_INFO}{${p.sel.node}})`)],
      links: [p.link(GPU_ALERTS.gpuLost)],
      width: 4,
    }),
  rowRemapPending: (p: PanelContext<'gpu'>) =>
    stat({
      title: 'Row remap pending',
      description: 'GPUs waiting for a reset to activate remapped rows (1 = pending).',
      unit: 'none',
      queries: [query(promql`max(${M.gpu.GPU_REMAPPED_ROWS_PENDING}{${p.sel.gpu}}) or vector(0)`)],
      mappings: flagMapping('PENDING', 'none'),
      links: [p.link(GPU_ALERTS.gpuRemapPending)],
      width: 4,
    }),
  xidErrorsInRange: (p: PanelContext<'gpu'>) =>
    stat({
      title: 'Xid errors in range',
      description: 'Xid errors the driver logged on these GPUs in the time range.',
      unit: 'none',
      queries: [
        query(
          `sum(${eventsInRange(`inferwatch_gpu_xid_errors_total{${p.sel.gpu}}`)}) or vector(0)`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'red'],
      ]),
      links: [p.link(GPU_ALERTS.gpuXidFatal), p.link(GPU_ALERTS.gpuXidNonFatal)],
      width: 4,
    }),
  gpuUtilization: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'GPU utilization',
      description:
        'Share of time a kernel ran on each GPU (nvidia-smi utilization.gpu): busy, not how busy.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [query(promql`${M.gpu.GPU_UTILIZATION}{${p.sel.gpu}}`, 'GPU {{gpu}}')],
    }),
  activityDCGM: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'SM, tensor and DRAM activity (DCGM)',
      description:
        'How much of each GPU works: SM active, tensor cores active, DRAM active. Needs a dcgm-exporter with profiling fields; empty without one.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        query(promql`${M.dcgm.GPU_SM_ACTIVE}{${p.sel.gpu}}`, 'GPU {{gpu}} SM'),
        query(promql`${M.dcgm.GPU_TENSOR_ACTIVE}{${p.sel.gpu}}`, 'GPU {{gpu}} tensor'),
        query(promql`${M.dcgm.GPU_DRAM_ACTIVE}{${p.sel.gpu}}`, 'GPU {{gpu}} DRAM'),
      ],
    }),
  migEngineActivity: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'MIG instances: engine activity',
      description:
        "Graphics/compute engine activity of each MIG GPU instance (dcgm-exporter's per-instance rows), as a share of that instance. A MIG GPU has no whole-GPU utilization; empty without MIG or without dcgm-exporter.",
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        query(
          promql`${M.dcgm.MIG_GRAPHICS_ENGINE_ACTIVE}{${p.sel.gpu}}`,
          'GPU {{gpu}} {{mig_profile}} #{{gpu_instance}}',
        ),
      ],
    }),
  gpuMemory: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'GPU memory used and total',
      description:
        'Memory used on each GPU against its total. vLLM and SGLang reserve most of it at start by design.',
      unit: 'bytes',
      min: 0,
      queries: [
        query(promql`${M.gpu.GPU_MEMORY_USED}{${p.sel.gpu}}`, 'GPU {{gpu}} used'),
        query(promql`${M.gpu.GPU_MEMORY_TOTAL}{${p.sel.gpu}}`, 'GPU {{gpu}} total'),
      ],
      links: [p.link(RUNTIME_ALERTS.gpuMemoryExhausted)],
    }),
  gpuMemoryByProcess: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'GPU memory by runtime and process',
      description:
        'Memory each process holds on these GPUs, by the runtime that owns it (empty runtime: not an LLM runtime).',
      unit: 'bytes',
      stack: true,
      queries: [
        query(
          promql`sum by (runtime, target, process) (${M.smi.GPU_PROCESS_MEMORY_USED}{${p.sel.gpu}})`,
          '{{runtime}} {{target}} ({{process}})',
        ),
      ],
    }),
  migMemory: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'MIG instances: memory used and free',
      description:
        "Device memory of each MIG GPU instance, used and free (dcgm-exporter's default counters; the instance's size adds the driver's reserve where DCGM_FI_DEV_FB_RESERVED is read). Empty without MIG or without dcgm-exporter.",
      unit: 'bytes',
      min: 0,
      queries: [
        query(
          promql`${M.dcgm.MIG_MEMORY_USED}{${p.sel.gpu}}`,
          'GPU {{gpu}} {{mig_profile}} #{{gpu_instance}} used',
        ),
        query(
          promql`${M.dcgm.MIG_MEMORY_FREE}{${p.sel.gpu}}`,
          'GPU {{gpu}} {{mig_profile}} #{{gpu_instance}} free',
        ),
      ],
    }),
  temperature: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'Temperature',
      description: 'GPU core and (HBM cards) memory temperature.',
      unit: 'celsius',
      queries: [query(promql`${M.gpu.GPU_TEMPERATURE}{${p.sel.gpu}}`, 'GPU {{gpu}} {{sensor}}')],
      thresholds: thresholds([
        [null, 'green'],
        [80, 'orange'],
        [90, 'red'],
      ]),
      links: [p.link(GPU_ALERTS.gpuThermalThrottle)],
    }),
  power: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'Power draw and limit',
      description: 'Power each GPU draws against its enforced limit.',
      unit: 'watt',
      min: 0,
      queries: [
        query(promql`${M.gpu.GPU_POWER_DRAW}{${p.sel.gpu}}`, 'GPU {{gpu}} draw'),
        query(promql`${M.gpu.GPU_POWER_LIMIT}{${p.sel.gpu}}`, 'GPU {{gpu}} limit'),
      ],
      links: [p.link(GPU_ALERTS.gpuPowerThrottle)],
    }),
  smClock: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'SM clock',
      description: 'The SM clock of each GPU; it drops when the GPU throttles.',
      unit: 'hertz',
      queries: [query(promql`${M.gpu.GPU_CLOCK}{clock="sm", ${p.sel.gpu}}`, 'GPU {{gpu}}')],
    }),
  clockEventReasons: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'Why clocks are held back',
      description:
        'Active clock-event reasons per GPU (1 while active): thermal and hardware slowdowns, the power cap, a power brake. Idle and application clocks are left out.',
      unit: 'none',
      min: 0,
      max: 1,
      queries: [
        query(
          promql`${M.gpu.GPU_CLOCK_EVENT_ACTIVE}{reason!~"gpu_idle|applications_clocks_setting|sync_boost", ${p.sel.gpu}} == 1`,
          'GPU {{gpu}} {{reason}}',
        ),
      ],
      links: [p.link(GPU_ALERTS.gpuThermalThrottle), p.link(GPU_ALERTS.gpuPowerThrottle)],
    }),
  gpuErrorsInRange: (p: PanelContext<'gpu'>) =>
    table({
      title: 'GPU errors in range',
      description:
        'Xid errors by GPU and code, uncorrected ECC errors and NVLink errors counted in the time range; only what happened is listed.',
      unit: 'none',
      height: 8,
      queries: [
        tableQuery(
          `sum by (gpu, xid) ${eventsInRange(`inferwatch_gpu_xid_errors_total{${p.sel.gpu}}`)} > 0`,
          'A',
        ),
        tableQuery(
          promql`sum by (gpu, type) (increase(${M.gpu.GPU_ECC_ERRORS}{type="uncorrected", ${p.sel.gpu}}[$__range])) > 0`,
          'B',
        ),
        tableQuery(
          promql`sum by (gpu, type) (increase(${M.dcgm.GPU_NVLINK_ERRORS}{${p.sel.gpu}}[$__range])) > 0`,
          'C',
        ),
      ],
      transformations: [
        { id: 'merge', options: {} },
        tableColumns({
          'Value #A': 'Xid errors',
          'Value #B': 'uncorrected ECC errors',
          'Value #C': 'NVLink errors',
        }),
      ],
      links: [
        p.link(GPU_ALERTS.gpuXidFatal),
        p.link(GPU_ALERTS.gpuMemoryUncorrectable),
        p.link(GPU_ALERTS.gpuNVLinkErrors),
      ],
    }),
};
