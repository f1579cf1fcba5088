import * as M from '../metrics.js';
import { promql } from '../promql.js';
import { GPU_ALERTS } from './gpu.js';
import { RUNTIME_ALERTS } from './runtime.js';
import {
  eventsInRange,
  flagMapping,
  joinRows,
  type PanelContext,
  query,
  stat,
  table,
  tableColumns,
  tableQuery,
  stateTimeline,
  thresholds,
  timeseries,
} from '../../../dashboards/src/common.js';
import { MappingType, type ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';

/** inferwatch_gpu_recovery_action's values as nvidia-smi words them, None in green. */
const RECOVERY_ACTIONS: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      '0': { text: 'None', color: 'green' },
      '1': { text: 'GPU reset', color: 'red' },
      '2': { text: 'Node reboot', color: 'red' },
      '3': { text: 'Drain P2P', color: 'red' },
      '4': { text: 'Drain and reset', color: 'red' },
    },
  },
];

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
  nodeGpuCount: (p: PanelContext<'gpu'>) =>
    stat({
      title: 'GPUs',
      description:
        'GPUs picked on this node that answer now (nvidia-smi, or DCGM where nvidia-smi is off).',
      unit: 'none',
      queries: [query(promql`count(${M.gpu.GPU_INFO}{${p.sel.gpu}})`)],
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
  gpuInventory: (p: PanelContext<'gpu'>) =>
    table({
      title: 'GPU inventory',
      description:
        'Each GPU as its driver reports it: model, driver, CUDA, VBIOS, compute capability, MIG and persistence mode, memory, and its PCIe link now against the most its slot allows (the generation drops while the GPU idles; the width should not).',
      unit: 'none',
      height: 8,
      queries: [
        tableQuery(promql`${M.gpu.GPU_INFO}{${p.sel.gpu}}`, 'A'),
        tableQuery(promql`max by (gpu) (${M.gpu.GPU_MEMORY_TOTAL}{${p.sel.gpu}})`, 'B'),
        tableQuery(
          promql`max by (gpu) (${M.gpu.GPU_PCIE_LINK_GENERATION}{state="current", ${p.sel.gpu}})`,
          'C',
        ),
        tableQuery(
          promql`max by (gpu) (${M.gpu.GPU_PCIE_LINK_GENERATION}{state="max", ${p.sel.gpu}})`,
          'D',
        ),
        tableQuery(
          promql`max by (gpu) (${M.gpu.GPU_PCIE_LINK_WIDTH}{state="current", ${p.sel.gpu}})`,
          'E',
        ),
        tableQuery(
          promql`max by (gpu) (${M.gpu.GPU_PCIE_LINK_WIDTH}{state="max", ${p.sel.gpu}})`,
          'F',
        ),
      ],
      transformations: joinRows(
        'gpu',
        {
          gpu_model: 'Model',
          pci_bus_id: 'PCI bus',
          driver_version: 'Driver',
          cuda_version: 'CUDA',
          vbios_version: 'VBIOS',
          compute_cap: 'Compute capability',
          mig_mode: 'MIG',
          persistence_mode: 'Persistence',
          'Value #B': 'Memory',
          'Value #C': 'PCIe gen',
          'Value #D': 'PCIe gen max',
          'Value #E': 'PCIe lanes',
          'Value #F': 'PCIe lanes max',
        },
        ['Value #A'],
      ),
      columns: { Memory: [{ id: 'unit', value: 'bytes' }] },
      links: [p.link(GPU_ALERTS.gpuPCIeLinkDegraded)],
    }),
  recoveryAction: (p: PanelContext<'gpu'>) =>
    stat({
      title: 'Driver recovery action',
      description:
        'What the driver asks for these GPUs, the worst first: nothing, a GPU reset, a node reboot, draining peer-to-peer traffic, or a drain and a reset.',
      unit: 'none',
      queries: [query(promql`max(${M.gpu.GPU_RECOVERY_ACTION}{${p.sel.gpu}})`)],
      mappings: RECOVERY_ACTIONS,
      noValue: 'Not reported by this driver',
      links: [p.link(GPU_ALERTS.gpuRecoveryAction)],
    }),
  energyInRange: (p: PanelContext<'gpu'>) =>
    stat({
      title: 'GPU energy in range',
      description:
        "Energy these GPUs used in the time range, from the driver's energy counter (the board, not the server around it).",
      unit: 'kwatth',
      queries: [query(promql`sum(increase(${M.gpu.GPU_ENERGY}{${p.sel.gpu}}[$__range])) / 3.6e6`)],
    }),
  migInstances: (p: PanelContext<'gpu'>) =>
    table({
      title: 'MIG instances',
      description:
        'The MIG GPU instances dcgm-exporter reports on these GPUs: parent GPU, instance id and profile. Empty without MIG or without dcgm-exporter.',
      unit: 'none',
      width: 12,
      height: 8,
      queries: [tableQuery(promql`${M.dcgm.MIG_INSTANCE_INFO}{${p.sel.gpu}}`, 'A')],
      transformations: [
        tableColumns({ gpu: 'GPU', gpu_instance: 'GPU instance', mig_profile: 'Profile' }, [
          '__name__',
          'job',
          'instance',
          'node',
          'gpu_model',
          'Value',
        ]),
      ],
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
    stateTimeline({
      title: 'Why clocks are held back',
      description:
        'When each clock-event reason was active, per GPU: thermal and hardware slowdowns, the power cap, a power brake. Idle and application clocks are left out.',
      unit: 'none',
      queries: [
        query(
          promql`${M.gpu.GPU_CLOCK_EVENT_ACTIVE}{reason!~"gpu_idle|applications_clocks_setting|sync_boost", ${p.sel.gpu}} == 1`,
          'GPU {{gpu}} {{reason}}',
        ),
      ],
      mappings: flagMapping('active', 'clear'),
      links: [p.link(GPU_ALERTS.gpuThermalThrottle), p.link(GPU_ALERTS.gpuPowerThrottle)],
    }),
  performanceState: (p: PanelContext<'gpu'>) =>
    stateTimeline({
      title: 'Performance state',
      description:
        'Each GPU’s P-state over time: P0 is full performance; a busy GPU in a higher P-state is held back.',
      unit: 'prefix:P',
      queries: [query(promql`${M.gpu.GPU_PERFORMANCE_STATE}{${p.sel.gpu}}`, 'GPU {{gpu}}')],
    }),
  fanSpeed: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'Fan speed',
      description:
        'Each GPU’s fan, as a share of its maximum speed. Passively cooled GPUs (most data-centre modules) have none to report.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [query(promql`${M.gpu.GPU_FAN_SPEED}{${p.sel.gpu}}`, 'GPU {{gpu}}')],
      noValue: 'No fan reported (passively cooled GPUs)',
    }),
  pcieThroughput: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'PCIe throughput',
      description:
        'Traffic between each GPU and its host, by direction (DCGM profiling fields): model loads, KV-cache offload, tensor parallelism without NVLink. Needs dcgm-exporter.',
      unit: 'Bps',
      min: 0,
      queries: [
        query(promql`${M.dcgm.GPU_PCIE_THROUGHPUT}{${p.sel.gpu}}`, 'GPU {{gpu}} {{direction}}'),
      ],
      links: [p.link(GPU_ALERTS.gpuPCIeLinkDegraded)],
    }),
  nvlinkThroughput: (p: PanelContext<'gpu'>) =>
    timeseries({
      title: 'NVLink throughput',
      description:
        'Traffic over each GPU’s NVLinks, by direction (DCGM profiling fields): tensor-parallel all-reduce runs here. Needs dcgm-exporter; empty on GPUs without NVLink.',
      unit: 'Bps',
      min: 0,
      queries: [
        query(promql`${M.dcgm.GPU_NVLINK_THROUGHPUT}{${p.sel.gpu}}`, 'GPU {{gpu}} {{direction}}'),
      ],
      links: [p.link(GPU_ALERTS.gpuNVLinkErrors)],
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
