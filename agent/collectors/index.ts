import { cost } from './cost/index.js';
import { dcgm } from './dcgm/index.js';
import { host } from './host/index.js';
import { kernelEvents } from './kernel-events/index.js';
import { nvidiaSmi } from './nvidia-smi/index.js';
import { runtimeLogs } from './runtime-logs/index.js';
import { runtimes } from './runtimes/index.js';
import { evaluation } from '../eval/index.js';
import { probe } from '../probe/index.js';
import { proxy } from '../proxy/index.js';
import type { CollectorFactory } from '../shared/collector-factory.js';

/** Every source the agent knows, in the order the exposition lists them. Add new ones here. */
export const COLLECTORS: readonly CollectorFactory[] = [
  nvidiaSmi,
  kernelEvents,
  dcgm,
  runtimes,
  proxy,
  runtimeLogs,
  probe,
  evaluation,
  host,
  cost,
];
