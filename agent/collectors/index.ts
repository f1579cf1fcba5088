import { cost } from './cost/index.js';
import { dcgm } from './dcgm/index.js';
import { gpuView } from './gpu/index.js';
import { host } from './host/index.js';
import { kernelEvents } from './kernel-events/index.js';
import { nvidiaSmi } from './nvidia-smi/index.js';
import { runtimeLogs } from './runtime-logs/index.js';
import { runtimes } from './runtimes/index.js';
import { evaluation } from '../eval/index.js';
import { probe } from '../probe/index.js';
import { kubernetes } from './kubernetes/index.js';
import { proxy } from '../proxy/index.js';
import type { CollectorFactory } from '../shared/collector-factory.js';

/** The sources that read GPUs: each reports what it saw to the GPU view, which writes it. */
const GPU_READERS = [nvidiaSmi, kernelEvents, dcgm];

/**
 * Every source the agent knows. Add new ones here. The order carries no meaning: each family
 * has one writer, and a stage runs after the sources that feed it.
 */
export const COLLECTORS: readonly CollectorFactory[] = [
  kubernetes,
  ...GPU_READERS,
  gpuView(GPU_READERS),
  runtimes,
  proxy,
  runtimeLogs,
  probe,
  evaluation,
  host,
  cost,
];
