import * as M from '../metrics.js';
import { bucket, promql } from '../promql.js';
import type { MetricDef } from '../../../agent/core/metric.js';
import { RUNTIME_ALERTS } from './runtime.js';
import { SLO_ALERTS } from './slo.js';
import type { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import {
  type PanelContext,
  query,
  heatmap,
  heatmapQuery,
  stat,
  table,
  tableColumns,
  tableQuery,
  thresholds,
  timeseries,
} from '../../../dashboards/src/common.js';

/** Quantiles (p50, p95 and p99 unless told) of a histogram over the picked replicas, per model. */
function quantiles(
  sel: string,
  histogram: MetricDef,
  legend: string,
  of: readonly number[] = [0.5, 0.95, 0.99],
): DataqueryBuilder[] {
  return of.map((q) =>
    query(
      promql`histogram_quantile(${q}, sum by (model, le) (rate(${bucket(histogram)}{${sel}}[$__rate_interval])))`,
      `{{model}} p${q * 100} ${legend}`,
    ),
  );
}

/** Where a replica is: the node, the runtime's target and, in a cluster, its pod. */
const REPLICA = 'instance, target, pod';
const REPLICA_LEGEND = '{{instance}} {{target}} {{pod}}';

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
  runtimeUp: (p: PanelContext<'target'>) =>
    timeseries({
      title: 'Runtime up, and unresponsive',
      description:
        'up: the runtime takes connections and answers (1), or refuses them or answers errors (0: down). unresponsive: it takes connections but does not answer in time (1: busy or hung, not down; its last figures are served meanwhile).',
      unit: 'none',
      min: 0,
      max: 1,
      queries: [
        query(promql`${M.llm.RUNTIME_UP}{${p.sel.target}}`, '{{instance}} {{target}} up'),
        query(
          promql`${M.llm.RUNTIME_UNRESPONSIVE}{${p.sel.target}}`,
          '{{instance}} {{target}} unresponsive',
        ),
      ],
      links: [
        p.link(RUNTIME_ALERTS.runtimeDown),
        p.link(RUNTIME_ALERTS.runtimeUnresponsive),
        p.link(RUNTIME_ALERTS.modelUnavailable),
      ],
    }),
  timeToFirstToken: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Time to first token',
      description: `p50, p95 and p99 of the time to the first token, from the runtimes’ histograms over 5 minutes. The SLO threshold is ${p.settings.ttftSeconds} s.`,
      unit: 's',
      min: 0,
      queries: quantiles(p.sel.picked, M.llm.TIME_TO_FIRST_TOKEN, 'TTFT'),
      thresholds: thresholds([
        [null, 'green'],
        [p.settings.ttftSeconds, 'red'],
      ]),
      links: [p.link(SLO_ALERTS.ttftBudgetBurn)],
    }),
  interTokenLatency: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Inter-token latency',
      description:
        'p50, p95 and p99 of the time between output tokens (what users see as the streaming speed).',
      unit: 's',
      min: 0,
      queries: quantiles(p.sel.picked, M.llm.INTER_TOKEN_LATENCY, 'ITL'),
    }),
  endToEndRequestDuration: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'End-to-end request duration',
      description: 'p50, p95 and p99 of the whole request, queue to last token.',
      unit: 's',
      min: 0,
      queries: quantiles(p.sel.picked, M.llm.REQUEST_DURATION, 'duration'),
    }),
  tokensPerSecond: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Tokens per second',
      description:
        'Prompt tokens read and output tokens generated per second by the picked replicas, per model (probe traffic included).',
      unit: 'short',
      min: 0,
      queries: [
        query(
          promql`sum by (model) (rate(${M.llm.GENERATION_TOKENS}{${p.sel.picked}}[$__rate_interval]))`,
          '{{model}} generated',
        ),
        query(
          promql`sum by (model) (rate(${M.llm.PROMPT_TOKENS}{${p.sel.picked}}[$__rate_interval]))`,
          '{{model}} prompt',
        ),
      ],
    }),
  requestsByOutcome: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Requests by outcome',
      description:
        'Finished requests per second by outcome: ok, error, aborted (the client left), rejected (the runtime refused).',
      unit: 'reqps',
      min: 0,
      stack: true,
      queries: [
        query(
          promql`sum by (model, outcome) (rate(${M.llm.REQUESTS}{${p.sel.picked}}[$__rate_interval]))`,
          '{{model}} {{outcome}}',
        ),
      ],
      links: [p.link(SLO_ALERTS.availabilityBudgetBurn)],
    }),
  timeToFirstTokenByReplica: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Time to first token p95, by node and target',
      description:
        'p95 of the time to the first token of each replica (node, runtime target, pod): the one that stands out is the one to look at.',
      unit: 's',
      min: 0,
      queries: [
        query(
          promql`histogram_quantile(0.95, sum by (${REPLICA}, le) (rate(${bucket(M.llm.TIME_TO_FIRST_TOKEN)}{${p.sel.picked}}[$__rate_interval])))`,
          REPLICA_LEGEND,
        ),
      ],
      thresholds: thresholds([
        [null, 'green'],
        [p.settings.ttftSeconds, 'red'],
      ]),
      links: [p.link(SLO_ALERTS.ttftBudgetBurn)],
    }),
  failedShareByReplica: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Failed requests, by node and target',
      description:
        'Share of each replica’s finished requests that failed or were rejected: a replica that fails while the others do not is the one to drain.',
      unit: 'percentunit',
      min: 0,
      queries: [
        query(
          promql`
(
  sum by (${REPLICA}) (rate(${M.llm.REQUESTS}{outcome=~"error|rejected", ${p.sel.picked}}[$__rate_interval]))
    or sum by (${REPLICA}) (rate(${M.llm.REQUESTS}{${p.sel.picked}}[$__rate_interval])) * 0
)
/ sum by (${REPLICA}) (rate(${M.llm.REQUESTS}{${p.sel.picked}}[$__rate_interval]))`,
          REPLICA_LEGEND,
        ),
      ],
      links: [p.link(SLO_ALERTS.availabilityBudgetBurn)],
    }),
  queueTime: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Time in queue',
      description:
        'p50, p95 and p99 of the time requests waited before the runtime scheduled them: rising queue time with flat inference time means too little capacity, not a slower model.',
      unit: 's',
      min: 0,
      queries: quantiles(p.sel.picked, M.llm.REQUEST_QUEUE, 'queue'),
      noValue: 'Not reported by these runtimes (Ollama, llama.cpp; Triton counts it in total only)',
      links: [p.link(RUNTIME_ALERTS.queueBacklog)],
    }),
  timeToFirstTokenHeatmap: (p: PanelContext<'picked'>) =>
    heatmap({
      title: 'Time to first token, distribution',
      description:
        'How many of the picked requests got their first token within each bucket, over time: a second mode, or a tail that moves, shows before a percentile does.',
      unit: 's',
      queries: [
        heatmapQuery(
          promql`sum by (le) (increase(${bucket(M.llm.TIME_TO_FIRST_TOKEN)}{${p.sel.picked}}[$__rate_interval]))`,
        ),
      ],
    }),
  requestDurationHeatmap: (p: PanelContext<'picked'>) =>
    heatmap({
      title: 'End-to-end request duration, distribution',
      description:
        'How many of the picked requests finished within each bucket, arrival to last token, over time.',
      unit: 's',
      queries: [
        heatmapQuery(
          promql`sum by (le) (increase(${bucket(M.llm.REQUEST_DURATION)}{${p.sel.picked}}[$__rate_interval]))`,
        ),
      ],
    }),
  promptLengthHeatmap: (p: PanelContext<'picked'>) =>
    heatmap({
      title: 'Prompt length, distribution',
      description:
        'How long the picked requests’ prompts were, in tokens, over time: when time to first token rises, the first question is whether the prompts got longer.',
      unit: 'short',
      queries: [
        heatmapQuery(
          promql`sum by (le) (increase(${bucket(M.llm.REQUEST_PROMPT_TOKENS)}{${p.sel.picked}}[$__rate_interval]))`,
        ),
      ],
      noValue: 'Not reported by these runtimes (vLLM reports it)',
    }),
  outputLengthHeatmap: (p: PanelContext<'picked'>) =>
    heatmap({
      title: 'Output length, distribution',
      description:
        'How many tokens the picked requests generated, over time: longer answers hold the GPU longer and raise end-to-end time, not time to first token.',
      unit: 'short',
      queries: [
        heatmapQuery(
          promql`sum by (le) (increase(${bucket(M.llm.REQUEST_GENERATION_TOKENS)}{${p.sel.picked}}[$__rate_interval]))`,
        ),
      ],
      noValue: 'Not reported by these runtimes (vLLM reports it)',
    }),
  finishReasons: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Why requests ended',
      description:
        'Finished requests per second by the reason the runtime gives: stop (the model ended its answer), length (cut at max_tokens or the context length: answers are truncated), abort, error.',
      unit: 'reqps',
      min: 0,
      stack: true,
      queries: [
        query(
          promql`sum by (model, finish_reason) (rate(${M.llm.REQUESTS}{finish_reason!="", ${p.sel.picked}}[$__rate_interval]))`,
          '{{model}} {{finish_reason}}',
        ),
      ],
      noValue: 'Not reported by these runtimes (vLLM reports it)',
    }),
  prefillAndDecode: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Prefill and decode time',
      description:
        'p50 and p95 of the time requests spent in prefill (scheduled to first token: the prompt) and in decode (first token to last: the answer), per model. Prefill rising alone points at longer prompts or a colder prefix cache; decode at longer answers or a busier batch.',
      unit: 's',
      min: 0,
      queries: [
        ...quantiles(p.sel.picked, M.llm.REQUEST_PREFILL, 'prefill', [0.5, 0.95]),
        ...quantiles(p.sel.picked, M.llm.REQUEST_DECODE, 'decode', [0.5, 0.95]),
      ],
      noValue: 'Not reported by these runtimes (vLLM reports it)',
    }),
  prefixCacheHitRatio: (p: PanelContext<'picked'>) =>
    timeseries({
      title: 'Prefix cache hit ratio, by node and target',
      description:
        'Share of prompt tokens each replica found in its prefix cache (and did not compute again). A drop after a deploy or a routing change raises time to first token.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        query(
          promql`sum by (${REPLICA}) (rate(${M.llm.PREFIX_CACHE_HITS}{${p.sel.picked}}[$__rate_interval])) / sum by (${REPLICA}) (rate(${M.llm.PREFIX_CACHE_QUERIES}{${p.sel.picked}}[$__rate_interval]))`,
          REPLICA_LEGEND,
        ),
      ],
      noValue: 'Not reported by these runtimes (Ollama, llama.cpp, TGI; vLLM 0.8 counts blocks)',
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
