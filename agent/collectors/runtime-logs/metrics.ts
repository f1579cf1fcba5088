import { counter } from '../../core/metric.js';

export const CUDA_OOM_EVENTS = counter(
  'inferwatch_llm_cuda_oom_events_total',
  "CUDA out-of-memory errors in a runtime's log since the agent started (matching lines less than 2 s apart count as one event).",
  ['runtime', 'target'],
);
