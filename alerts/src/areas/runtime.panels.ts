import * as M from '../metrics.js';
import { promql } from '../promql.js';
import { RUNTIME_ALERTS } from './runtime.js';
import { SLO_ALERTS } from './slo.js';
import type { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import {
  type PanelContext,
  query,
  stat,
  table,
  tableColumns,
  tableQuery,
  thresholds,
  timeseries,
} from '../../../dashboards/src/common.js';

/** p50, p95 and p99 of a histogram per model, from the recorded quantiles. */
function quantiles(model: string, metric: string, legend: string): DataqueryBuilder[] {
  return ['0.5', '0.95', '0.99'].map((q) =>
    query(
      `model_quantile:${metric}:histogram_quantile_rate5m{quantile="${q}", ${model}}`,
      `{{model}} p${Number(q) * 100} ${legend}`,
    ),
  );
}

/** The runtime area's panels, placed by the dashboards in dashboards/src (see PanelContext). */
export const RUNTIME_PANELS = {
  fleetTokensPerSecond: (p: PanelContext<'picked'>) =>
    stat({
      title: 'Tokens generated per second',
      description: 'Output tokens per second over every runtime the agents read (5m rate).',
      unit: 'short',
      queries: [query(`sum(instance:inferwatch_llm_generation_tokens:rate5m{${p.sel.picked}})`)],
      width: 4,
    }),
  tokensPerSecondByNode: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Tokens generated per second by node',
      description: 'Output tokens per second of each node’s runtimes.',
      unit: 'short',
      queries: [
        query(`instance:inferwatch_llm_generation_tokens:rate5m{${p.sel.picked}}`, '{{instance}}'),
      ],
    }),
  requestsAgainstConcurrency: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Requests waiting and running, against concurrency',
      description:
        'Requests queued and in flight per runtime and model, with the most it runs at once where the runtime says.',
      unit: 'none',
      min: 0,
      queries: [
        query(promql`${M.llm.REQUESTS_WAITING}{${p.sel.picked}}`, '{{target}} {{model}} waiting'),
        query(promql`${M.llm.REQUESTS_RUNNING}{${p.sel.picked}}`, '{{target}} {{model}} running'),
        query(promql`${M.llm.MAX_CONCURRENCY}{${p.sel.picked}}`, '{{target}} {{model}} capacity'),
      ],
      links: [p.link(RUNTIME_ALERTS.queueBacklog)],
    }),
  kvCacheUsage: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'KV cache usage',
      description:
        'How full each runtime’s KV cache is. Near full is normal for vLLM and SGLang; full with queueing or preemptions is not.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [query(promql`${M.llm.KV_CACHE_USAGE}{${p.sel.picked}}`, '{{target}} {{model}}')],
      noValue: 'Not reported by these runtimes (Ollama; llama.cpp since May 2025)',
      thresholds: thresholds([
        [null, 'green'],
        [0.95, 'orange'],
      ]),
      links: [p.link(RUNTIME_ALERTS.kvCacheSaturated)],
    }),
  preemptions: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Preemptions',
      description:
        'Requests preempted per second (their KV cache was taken back; they are recomputed).',
      unit: 'reqps',
      min: 0,
      queries: [
        query(
          promql`rate(${M.llm.PREEMPTIONS}{${p.sel.picked}}[$__rate_interval])`,
          '{{target}} {{model}}',
        ),
      ],
      noValue: 'Not reported by these runtimes (Ollama, llama.cpp, TGI)',
      links: [p.link(RUNTIME_ALERTS.kvCacheSaturated)],
    }),
  runtimeUp: (p: PanelContext) =>
    timeseries({
      title: 'Runtime up, and unresponsive',
      description:
        'up: the runtime takes connections and answers (1), or refuses them or answers errors (0: down). unresponsive: it takes connections but does not answer in time (1: busy or hung, not down; its last figures are served meanwhile).',
      unit: 'none',
      min: 0,
      max: 1,
      queries: [
        query(
          promql`${M.llm.RUNTIME_UP}{instance=~"$instance", runtime=~"$runtime"}`,
          '{{instance}} {{target}} up',
        ),
        query(
          promql`${M.llm.RUNTIME_UNRESPONSIVE}{instance=~"$instance", runtime=~"$runtime"}`,
          '{{instance}} {{target}} unresponsive',
        ),
      ],
      links: [
        p.link(RUNTIME_ALERTS.runtimeDown),
        p.link(RUNTIME_ALERTS.runtimeUnresponsive),
        p.link(RUNTIME_ALERTS.modelUnavailable),
      ],
    }),
  timeToFirstToken: (p: PanelContext<'model'>) =>
    timeseries({
      title: 'Time to first token',
      description: `p50, p95 and p99 of the time to the first token, from the runtimes’ histograms over 5 minutes. The SLO threshold is ${p.settings.ttftSeconds} s.`,
      unit: 's',
      min: 0,
      queries: quantiles(p.sel.model, M.llm.TIME_TO_FIRST_TOKEN.name, 'TTFT'),
      thresholds: thresholds([
        [null, 'green'],
        [p.settings.ttftSeconds, 'red'],
      ]),
      links: [p.link(SLO_ALERTS.ttftBudgetBurn)],
    }),
  interTokenLatency: (p: PanelContext<'model'>) =>
    timeseries({
      title: 'Inter-token latency',
      description:
        'p50, p95 and p99 of the time between output tokens (what users see as the streaming speed).',
      unit: 's',
      min: 0,
      queries: quantiles(p.sel.model, M.llm.INTER_TOKEN_LATENCY.name, 'ITL'),
    }),
  endToEndRequestDuration: (p: PanelContext<'model'>) =>
    timeseries({
      title: 'End-to-end request duration',
      description: 'p50, p95 and p99 of the whole request, queue to last token.',
      unit: 's',
      min: 0,
      queries: quantiles(p.sel.model, M.llm.REQUEST_DURATION.name, 'duration'),
    }),
  tokensPerSecond: (p: PanelContext<'model'>) =>
    timeseries({
      title: 'Tokens per second',
      description:
        'Prompt tokens read and output tokens generated per second, per model (probe traffic included).',
      unit: 'short',
      min: 0,
      queries: [
        query(
          `model:inferwatch_llm_generation_tokens:rate5m{${p.sel.model}}`,
          '{{model}} generated',
        ),
        query(`model:inferwatch_llm_prompt_tokens:rate5m{${p.sel.model}}`, '{{model}} prompt'),
      ],
    }),
  requestsByOutcome: (p: PanelContext<'model'>) =>
    timeseries({
      title: 'Requests by outcome',
      description:
        'Finished requests per second by outcome: ok, error, aborted (the client left), rejected (the runtime refused).',
      unit: 'reqps',
      min: 0,
      stack: true,
      queries: [
        query(
          `model_outcome:inferwatch_llm_requests:rate5m{${p.sel.model}}`,
          '{{model}} {{outcome}}',
        ),
      ],
      links: [p.link(SLO_ALERTS.availabilityBudgetBurn)],
    }),
  cudaOOMCount: (p: PanelContext<'node'>) =>
    stat({
      title: 'CUDA OOM in range',
      description: 'CUDA out-of-memory errors in the runtimes’ logs in the time range.',
      unit: 'none',
      queries: [
        query(
          promql`sum(increase(${M.logs.CUDA_OOM_EVENTS}{${p.sel.node}}[$__range])) or vector(0)`,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [1, 'orange'],
      ]),
      links: [p.link(RUNTIME_ALERTS.cudaOutOfMemory)],
      width: 4,
    }),
  cudaOOMByRuntime: (p: PanelContext<'node'>) =>
    table({
      title: 'CUDA out of memory in range',
      description: 'CUDA out-of-memory errors by runtime, from their logs, in the time range.',
      unit: 'none',
      width: 12,
      height: 8,
      queries: [
        tableQuery(
          promql`sum by (runtime, target) (increase(${M.logs.CUDA_OOM_EVENTS}{${p.sel.node}}[$__range])) > 0`,
          'A',
        ),
      ],
      transformations: [tableColumns({ Value: 'CUDA OOM errors' })],
      links: [p.link(RUNTIME_ALERTS.cudaOutOfMemory)],
    }),
};
