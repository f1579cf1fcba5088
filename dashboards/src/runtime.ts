import * as M from '../../alerts/src/metrics.js';
import { promql } from '../../alerts/src/promql.js';
import type { AlertDef } from '../../alerts/src/rule.js';
import { QUALITY_ALERTS } from '../../alerts/src/areas/quality.js';
import { RUNTIME_ALERTS } from '../../alerts/src/areas/runtime.js';
import { SLO_ALERTS } from '../../alerts/src/areas/slo.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { ADAPTERS } from '../../agent/collectors/runtimes/adapters/index.js';
import { AnnotationQueryBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DATASOURCE,
  dashboard,
  newSeries,
  table,
  tableQuery,
  labelVariable,
  nodeVariable,
  query,
  runbookLink,
  standardAnnotations,
  stat,
  thresholds,
  timeseries,
  UIDS,
  type DashboardSettings,
} from './common.js';

const SEL = 'instance=~"$instance", runtime=~"$runtime", model=~"$model"';
const MODEL = 'model=~"$model"';

/** The runtimes and their SLOs: load against capacity, latency, traffic, outcomes, budget. */
export function runtime(settings: DashboardSettings): DashboardBuilder {
  const link = (alert: AlertDef) => runbookLink(settings, alert);
  const quantiles = (metric: string, legend: string) =>
    ['0.5', '0.95', '0.99'].map((q) =>
      query(
        `model_quantile:${metric}:histogram_quantile_rate5m{quantile="${q}", ${MODEL}}`,
        `{{model}} p${Number(q) * 100} ${legend}`,
      ),
    );
  const b = dashboard(
    UIDS.runtime,
    'inferwatch / Inference runtime and SLO',
    `The LLM runtimes (${ADAPTERS.map((a) => a.title).join(', ')}) on one schema: requests against capacity, KV cache, preemptions, time to first token, inter-token latency, tokens, outcomes, and the error budget of each SLO.`,
  )
    .withVariable(nodeVariable(M.llm.RUNTIME_INFO.name))
    .withVariable(
      labelVariable(
        'runtime',
        'Runtime',
        promql`label_values(${M.llm.RUNTIME_INFO}{instance=~"$instance"}, runtime)`,
        { multi: true, includeAll: true },
      ),
    )
    .withVariable(
      labelVariable(
        'model',
        'Model',
        promql`label_values(${M.llm.RUNTIME_INFO}{instance=~"$instance", runtime=~"$runtime"}, model)`,
        { multi: true, includeAll: true },
      ),
    )
    .withRow(new RowBuilder('SLO'))
    .withPanel(
      stat({
        title: 'Availability budget left (30d, approx.)',
        description:
          'Share of the 30-day availability error budget not yet spent: 1 - (mean hourly error ratio over 30 days / budget). Hours weigh the same whatever their traffic, so it is an approximation.',
        unit: 'percentunit',
        width: 6,
        queries: [
          query(
            `1 - avg_over_time(slo:sli_error:ratio_rate1h{slo="availability", ${MODEL}}[30d]) / on (slo) group_left () slo:error_budget:ratio{slo="availability"}`,
            '{{model}}',
          ),
        ],
        thresholds: thresholds([
          [null, 'red'],
          [0.25, 'orange'],
          [0.5, 'green'],
        ]),
        links: [link(SLO_ALERTS.availabilityBudgetBurn)],
      }),
    )
    .withPanel(
      stat({
        title: `TTFT budget left (30d, approx.)`,
        description: `Share of the 30-day budget of requests slower than ${settings.ttftSeconds} s to the first token not yet spent (hourly ratios averaged).`,
        unit: 'percentunit',
        width: 6,
        queries: [
          query(
            `1 - avg_over_time(slo:sli_error:ratio_rate1h{slo="ttft", ${MODEL}}[30d]) / on (slo) group_left () slo:error_budget:ratio{slo="ttft"}`,
            '{{model}}',
          ),
        ],
        thresholds: thresholds([
          [null, 'red'],
          [0.25, 'orange'],
          [0.5, 'green'],
        ]),
        links: [link(SLO_ALERTS.ttftBudgetBurn)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Burn rate',
        description:
          'How fast each SLO spends its budget (1 = exactly the budget over 30 days), over 1h and 6h. The fast page fires above 14.4 (1h), the slower one above 6 (6h).',
        unit: 'none',
        min: 0,
        queries: [
          query(
            `slo:sli_error:ratio_rate1h{${MODEL}} / on (slo) group_left () slo:error_budget:ratio`,
            '{{model}} {{slo}} 1h',
          ),
          query(
            `slo:sli_error:ratio_rate6h{${MODEL}} / on (slo) group_left () slo:error_budget:ratio`,
            '{{model}} {{slo}} 6h',
          ),
        ],
        thresholds: thresholds([
          [null, 'green'],
          [6, 'orange'],
          [14.4, 'red'],
        ]),
        links: [link(SLO_ALERTS.availabilityBudgetBurn), link(SLO_ALERTS.ttftBudgetBurn)],
      }),
    )
    .withRow(new RowBuilder('Load and capacity'))
    .withPanel(
      timeseries({
        title: 'Requests waiting and running, against concurrency',
        description:
          'Requests queued and in flight per runtime and model, with the most it runs at once where the runtime says.',
        unit: 'none',
        min: 0,
        queries: [
          query(promql`${M.llm.REQUESTS_WAITING}{${SEL}}`, '{{target}} {{model}} waiting'),
          query(promql`${M.llm.REQUESTS_RUNNING}{${SEL}}`, '{{target}} {{model}} running'),
          query(promql`${M.llm.MAX_CONCURRENCY}{${SEL}}`, '{{target}} {{model}} capacity'),
        ],
        links: [link(RUNTIME_ALERTS.queueBacklog)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'KV cache usage',
        description:
          'How full each runtime’s KV cache is. Near full is normal for vLLM and SGLang; full with queueing or preemptions is not.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [query(promql`${M.llm.KV_CACHE_USAGE}{${SEL}}`, '{{target}} {{model}}')],
        noValue: 'Not reported by these runtimes (Ollama; llama.cpp since May 2025)',
        thresholds: thresholds([
          [null, 'green'],
          [0.95, 'orange'],
        ]),
        links: [link(RUNTIME_ALERTS.kvCacheSaturated)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Preemptions',
        description:
          'Requests preempted per second (their KV cache was taken back; they are recomputed).',
        unit: 'reqps',
        min: 0,
        queries: [
          query(
            promql`rate(${M.llm.PREEMPTIONS}{${SEL}}[$__rate_interval])`,
            '{{target}} {{model}}',
          ),
        ],
        noValue: 'Not reported by these runtimes (Ollama, llama.cpp, TGI)',
        links: [link(RUNTIME_ALERTS.kvCacheSaturated)],
      }),
    )
    .withPanel(
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
          link(RUNTIME_ALERTS.runtimeDown),
          link(RUNTIME_ALERTS.runtimeUnresponsive),
          link(RUNTIME_ALERTS.modelUnavailable),
        ],
      }),
    )
    .withRow(new RowBuilder('Latency (every node, per model)'))
    .withPanel(
      timeseries({
        title: 'Time to first token',
        description: `p50, p95 and p99 of the time to the first token, from the runtimes’ histograms over 5 minutes. The SLO threshold is ${settings.ttftSeconds} s.`,
        unit: 's',
        min: 0,
        queries: quantiles(M.llm.TIME_TO_FIRST_TOKEN.name, 'TTFT'),
        thresholds: thresholds([
          [null, 'green'],
          [settings.ttftSeconds, 'red'],
        ]),
        links: [link(SLO_ALERTS.ttftBudgetBurn)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Inter-token latency',
        description:
          'p50, p95 and p99 of the time between output tokens (what users see as the streaming speed).',
        unit: 's',
        min: 0,
        queries: quantiles(M.llm.INTER_TOKEN_LATENCY.name, 'ITL'),
      }),
    )
    .withPanel(
      timeseries({
        title: 'End-to-end request duration',
        description: 'p50, p95 and p99 of the whole request, queue to last token.',
        unit: 's',
        min: 0,
        queries: quantiles(M.llm.REQUEST_DURATION.name, 'duration'),
      }),
    )
    .withRow(new RowBuilder('Traffic and outcomes'))
    .withPanel(
      timeseries({
        title: 'Tokens per second',
        description:
          'Prompt tokens read and output tokens generated per second, per model (probe traffic included).',
        unit: 'short',
        min: 0,
        queries: [
          query(`model:inferwatch_llm_generation_tokens:rate5m{${MODEL}}`, '{{model}} generated'),
          query(`model:inferwatch_llm_prompt_tokens:rate5m{${MODEL}}`, '{{model}} prompt'),
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Requests by outcome',
        description:
          'Finished requests per second by outcome: ok, error, aborted (the client left), rejected (the runtime refused).',
        unit: 'reqps',
        min: 0,
        stack: true,
        queries: [
          query(`model_outcome:inferwatch_llm_requests:rate5m{${MODEL}}`, '{{model}} {{outcome}}'),
        ],
        links: [link(SLO_ALERTS.availabilityBudgetBurn)],
      }),
    );
  const quality = b
    .withRow(new RowBuilder('Quality'))
    .withPanel(
      timeseries({
        title: 'Evaluation pass ratio',
        description:
          "Share of each evaluation suite's cases the model answered right in its last complete run, and the baseline it is compared with. Runs follow every change of model, runtime version, GPU driver or chat template (the annotations), and the schedule.",
        unit: 'percentunit',
        width: 18,
        min: 0,
        max: 1,
        queries: [
          query(
            promql`${M.quality.EVAL_PASS_RATIO}{${SEL}}`,
            '{{suite}} {{model}} on {{target}}',
            'A',
          ),
          query(
            promql`${M.quality.EVAL_BASELINE}{${SEL}}`,
            'baseline {{suite}} {{model}} on {{target}}',
            'B',
          ),
        ],
        links: [link(QUALITY_ALERTS.qualityRegression)],
      }),
    )
    .withPanel(
      stat({
        title: 'Change against baseline',
        description:
          'Last pass ratio less the baseline, per suite and model (the page needs the drop to be more than chance as well).',
        unit: 'percentunit',
        width: 6,
        height: 8,
        queries: [query(promql`${M.quality.EVAL_CHANGE}{${SEL}}`, '{{suite}} {{model}}')],
        thresholds: thresholds([
          [null, 'red'],
          [-0.1, 'orange'],
          [0, 'green'],
        ]),
        links: [link(QUALITY_ALERTS.qualityRegression)],
      }),
    )
    .withPanel(
      table({
        title: 'Failing evaluation cases',
        description:
          "Cases of the last complete runs that failed every time they were asked (fail) or some of the times (flaky), by id: the prompts are in the suite's file and never leave the node.",
        unit: 'none',
        height: 8,
        queries: [
          tableQuery(
            promql`group by (instance, suite, target, model, case, result) (${M.quality.EVAL_CASE_FAILING}{${SEL}})`,
            'A',
          ),
        ],
        links: [link(QUALITY_ALERTS.qualityRegression)],
      }),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Evaluated after a change')
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor('green')
        .expr(
          newSeries(
            M.quality.EVAL_FINGERPRINT.name,
            'instance, suite, target, model, runtime_version, driver_version, fingerprint',
            'instance=~"$instance"',
          ),
        )
        .titleFormat('{{suite}} on {{target}}: evaluated {{fingerprint}}')
        .textFormat('{{model}}, runtime {{runtime_version}}, driver {{driver_version}}')
        .step('60s'),
    );
  return standardAnnotations(quality, 'instance=~"$instance"');
}
