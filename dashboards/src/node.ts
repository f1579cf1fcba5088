import { RUNTIME_PANELS } from '../../alerts/src/areas/runtime.panels.js';
import { HOST_PANELS } from '../../alerts/src/areas/host.panels.js';
import { AGENT_PANELS } from '../../alerts/src/areas/agent.panels.js';
import { GPU_PANELS } from '../../alerts/src/areas/gpu.panels.js';
import * as M from '../../alerts/src/metrics.js';
import { promql } from '../../alerts/src/promql.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  dashboard,
  labelVariable,
  nodeVariable,
  standardAnnotations,
  UIDS,
  panelContext,
  type DashboardSettings,
} from './common.js';

const NODE = 'instance="$instance"';
const GPU = 'instance="$instance", gpu=~"$gpu"';

/** One node and its GPUs: load, memory, heat, power, clocks, errors, and the host. */
export function node(settings: DashboardSettings): DashboardBuilder {
  const p = panelContext(settings, { node: NODE, gpu: GPU });
  const b = dashboard(
    UIDS.node,
    'inferwatch / Node and GPUs',
    'One inference node: its GPUs’ inventory and PCIe links, utilization and activity, memory by process and runtime, temperature, power and energy, clocks, P-states and why they drop, PCIe and NVLink traffic, the driver’s recovery action, GPU errors and OOM events, and the host.',
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
    .withPanel(GPU_PANELS.nodeGpuCount(p))
    .withPanel(AGENT_PANELS.collectorsFailing(p))
    .withPanel(GPU_PANELS.rowRemapPending(p))
    .withPanel(GPU_PANELS.xidErrorsInRange(p))
    .withPanel(HOST_PANELS.oomKillCount(p))
    .withPanel(RUNTIME_PANELS.cudaOOMCount(p))
    .withRow(new RowBuilder('Inventory'))
    .withPanel(HOST_PANELS.hostInventory(p))
    .withPanel(GPU_PANELS.gpuInventory(p))
    .withPanel(GPU_PANELS.migInstances(p))
    .withPanel(GPU_PANELS.recoveryAction(p))
    .withPanel(GPU_PANELS.energyInRange(p))
    .withRow(new RowBuilder('Load'))
    .withPanel(GPU_PANELS.gpuUtilization(p))
    .withPanel(GPU_PANELS.activityDCGM(p))
    .withPanel(GPU_PANELS.migEngineActivity(p))
    .withRow(new RowBuilder('Memory'))
    .withPanel(GPU_PANELS.gpuMemory(p))
    .withPanel(GPU_PANELS.gpuMemoryByProcess(p))
    .withPanel(GPU_PANELS.migMemory(p))
    .withRow(new RowBuilder('Heat and power'))
    .withPanel(GPU_PANELS.temperature(p))
    .withPanel(GPU_PANELS.power(p))
    .withRow(new RowBuilder('Clocks'))
    .withPanel(GPU_PANELS.smClock(p))
    .withPanel(GPU_PANELS.clockEventReasons(p))
    .withPanel(GPU_PANELS.performanceState(p))
    .withPanel(GPU_PANELS.fanSpeed(p))
    .withRow(new RowBuilder('PCIe and NVLink'))
    .withPanel(GPU_PANELS.pcieThroughput(p))
    .withPanel(GPU_PANELS.nvlinkThroughput(p))
    .withRow(new RowBuilder('Errors and events'))
    .withPanel(GPU_PANELS.gpuErrorsInRange(p))
    .withPanel(HOST_PANELS.oomVictims(p))
    .withPanel(RUNTIME_PANELS.cudaOOMByRuntime(p))
    .withRow(new RowBuilder('Host'))
    .withPanel(HOST_PANELS.hostCPU(p))
    .withPanel(HOST_PANELS.hostMemory(p));
  return standardAnnotations(b, NODE);
}
