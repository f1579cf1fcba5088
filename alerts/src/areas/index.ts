import type { Area } from '../rule.js';
import { agentArea } from './agent.js';
import { aggregatesArea } from './aggregates.js';
import { costArea } from './cost.js';
import { gpuArea } from './gpu.js';
import { hostArea } from './host.js';
import { probeArea } from './probe.js';
import { qualityArea } from './quality.js';
import { runtimeArea } from './runtime.js';
import { sloArea } from './slo.js';

/** Every area of the bundle, in the order the rule file lists their groups. Add new ones here. */
export const AREAS: readonly Area[] = [
  aggregatesArea,
  gpuArea,
  runtimeArea,
  sloArea,
  probeArea,
  qualityArea,
  hostArea,
  agentArea,
  costArea,
];
