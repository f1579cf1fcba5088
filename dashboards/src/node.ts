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
    .withPanel(GPU_PANELS.nodeGpuCount(p))
    .withPanel(AGENT_PANELS.collectorsFailing(p))
    .withPanel(GPU_PANELS.rowRemapPending(p))
    .withPanel(GPU_PANELS.xidErrorsInRange(p))
    .withPanel(HOST_PANELS.oomKillCount(p))
    .withPanel(RUNTIME_PANELS.cudaOOMCount(p))
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
    .withRow(new RowBuilder('Errors and events'))
    .withPanel(GPU_PANELS.gpuErrorsInRange(p))
    .withPanel(HOST_PANELS.oomVictims(p))
    .withPanel(RUNTIME_PANELS.cudaOOMByRuntime(p))
    .withRow(new RowBuilder('Host'))
    .withPanel(HOST_PANELS.hostCPU(p))
    .withPanel(HOST_PANELS.hostMemory(p));
  return standardAnnotations(b, NODE);
}
