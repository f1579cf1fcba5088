import { QUALITY_PANELS } from '../../alerts/src/areas/quality.panels.js';
import { RUNTIME_PANELS } from '../../alerts/src/areas/runtime.panels.js';
import { SLO_PANELS } from '../../alerts/src/areas/slo.panels.js';
import * as M from '../../alerts/src/metrics.js';
import { promql } from '../../alerts/src/promql.js';
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { ADAPTERS } from '../../agent/collectors/runtimes/adapters/index.js';
import { AnnotationQueryBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DATASOURCE,
  dashboard,
  newSeries,
  labelVariable,
  nodeVariable,
  standardAnnotations,
  UIDS,
  panelContext,
  type DashboardSettings,
} from './common.js';

const TARGET = 'instance=~"$instance", runtime=~"$runtime", target=~"$target"';
const SEL = `${TARGET}, model=~"$model"`;

/** The runtimes and their SLOs: load against capacity, latency, traffic, outcomes, budget. */
export function runtime(settings: DashboardSettings): DashboardBuilder {
  const p = panelContext(settings, { picked: SEL, target: TARGET });
  const b = dashboard(
    UIDS.runtime,
    'inferwatch / Inference runtime and SLO',
    `The LLM runtimes (${ADAPTERS.map((a) => a.title).join(', ')}) on one schema, narrowed to any nodes, runtimes, targets and models: the error budget of each SLO, which replica stands out, requests against capacity, KV cache, preemptions, time to first token, inter-token latency, queue time and their distributions, prompt and output lengths, why requests ended, prefill and decode time, tokens, outcomes and the prefix cache.`,
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
        'target',
        'Target',
        promql`label_values(${M.llm.RUNTIME_INFO}{instance=~"$instance", runtime=~"$runtime"}, target)`,
        { multi: true, includeAll: true },
      ),
    )
    .withVariable(
      labelVariable(
        'model',
        'Model',
        promql`label_values(${M.llm.RUNTIME_INFO}{instance=~"$instance", runtime=~"$runtime", target=~"$target"}, model)`,
        { multi: true, includeAll: true },
      ),
    )
    .withRow(new RowBuilder('SLO'))
    .withPanel(SLO_PANELS.availabilityBudgetLeft(p))
    .withPanel(SLO_PANELS.ttftBudgetLeft(p))
    .withPanel(SLO_PANELS.burnRate(p))
    .withRow(new RowBuilder('Load and capacity'))
    .withPanel(RUNTIME_PANELS.requestsAgainstConcurrency(p))
    .withPanel(RUNTIME_PANELS.kvCacheUsage(p))
    .withPanel(RUNTIME_PANELS.preemptions(p))
    .withPanel(RUNTIME_PANELS.runtimeUp(p))
    .withRow(new RowBuilder('Finding the replica'))
    .withPanel(RUNTIME_PANELS.timeToFirstTokenByReplica(p))
    .withPanel(RUNTIME_PANELS.failedShareByReplica(p))
    .withRow(new RowBuilder('Latency'))
    .withPanel(RUNTIME_PANELS.timeToFirstToken(p))
    .withPanel(RUNTIME_PANELS.interTokenLatency(p))
    .withPanel(RUNTIME_PANELS.endToEndRequestDuration(p))
    .withPanel(RUNTIME_PANELS.queueTime(p))
    .withPanel(RUNTIME_PANELS.timeToFirstTokenHeatmap(p))
    .withPanel(RUNTIME_PANELS.requestDurationHeatmap(p))
    .withRow(new RowBuilder('Request shape'))
    .withPanel(RUNTIME_PANELS.promptLengthHeatmap(p))
    .withPanel(RUNTIME_PANELS.outputLengthHeatmap(p))
    .withPanel(RUNTIME_PANELS.finishReasons(p))
    .withPanel(RUNTIME_PANELS.prefillAndDecode(p))
    .withRow(new RowBuilder('Traffic and outcomes'))
    .withPanel(RUNTIME_PANELS.tokensPerSecond(p))
    .withPanel(RUNTIME_PANELS.requestsByOutcome(p))
    .withPanel(RUNTIME_PANELS.prefixCacheHitRatio(p));
  const quality = b
    .withRow(new RowBuilder('Quality'))
    .withPanel(QUALITY_PANELS.evaluationPassRatio(p))
    .withPanel(QUALITY_PANELS.changeAgainstBaseline(p))
    .withPanel(QUALITY_PANELS.failingEvaluationCases(p))
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
