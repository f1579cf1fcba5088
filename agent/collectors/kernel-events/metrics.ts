import { counter } from '../../core/metric.js';

export const OOM_KILL_VICTIMS = counter(
  'inferwatch_oom_kill_victims_total',
  'Processes the kernel OOM killer killed since the agent started, by process name (from the kernel log).',
  ['process'],
);
