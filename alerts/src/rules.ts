import { PAGED_XIDS } from '../../agent/shared/gpu-metrics.js';
import { stringify } from 'yaml';
import type { RuleSettings } from './settings.js';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly keep_firing_for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
}

export interface RecordRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly (AlertRule | RecordRule)[];
}

type Severity = 'critical' | 'warning' | 'none';

/** The SLO windows, shortest first, as sloth names them. */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/** Multi-window, multi-burn-rate tiers (Google SRE workbook, chapter 5). */
export const BURN_TIERS = [
  { long: '1h', short: '5m', factor: 14.4, for: '2m', severity: 'critical' },
  { long: '6h', short: '30m', factor: 6, for: '15m', severity: 'critical' },
  { long: '1d', short: '2h', factor: 3, for: '1h', severity: 'warning' },
  { long: '3d', short: '6h', factor: 1, for: '3h', severity: 'warning' },
] as const;

const FATAL_XIDS = PAGED_XIDS.join('|');
const THERMAL = 'hw_thermal_slowdown|sw_thermal_slowdown|hw_slowdown';

/** The alert and recording rules, from the settings: what alerts/inferwatch.rules.yml holds. */
export function ruleGroups(s: RuleSettings): RuleGroup[] {
  const alert = (
    name: string,
    severity: Severity,
    component: string,
    expr: string,
    text: { summary: string; description: string },
    timing: { for?: string; keep_firing_for?: string } = {},
    extra: Record<string, string> = {},
  ): AlertRule => ({
    alert: name,
    expr: expr.trim(),
    ...timing,
    labels: { severity, component, ...extra },
    annotations: { ...text, runbook_url: `${s.runbook_base_url.replace(/\/+$/, '')}/${name}.md` },
  });
  const onDemand = s.runtime.on_demand_runtimes.join('|');
  const budget = {
    availability: round(1 - s.slo.availability_objective),
    ttft: round(1 - s.slo.ttft_objective),
  };
  const agent = `job="${s.jobs.agent}"`;

  const gpu: RuleGroup = {
    name: 'inferwatch-gpu',
    rules: [
      alert(
        'LLMNodeGPUXidFatal',
        'critical',
        'gpu',
        `increase(inferwatch_gpu_xid_errors_total{xid=~"${FATAL_XIDS}"}[15m]) > 0`,
        {
          summary: 'A GPU reported an Xid that needs a GPU reset or a reboot.',
          description:
            'GPU {{ $labels.gpu }} ({{ $labels.pci_bus_id }}) on {{ $labels.instance }} logged Xid {{ $labels.xid }} {{ $value | printf "%.0f" }} time(s) in 15m. Drain the node, then act on the Xid (runbook table).',
        },
        { keep_firing_for: '30m' },
      ),
      alert(
        'LLMNodeGPUXidNonFatal',
        'warning',
        'gpu',
        // Non-fatal codes are not made to exist at 0 (the paged ones are): a code's first
        // event makes a series at 1, which increase() cannot see, so a series born in the
        // hour counts whole.
        `
inferwatch_gpu_xid_errors_total{xid!~"${FATAL_XIDS}"} > 0
  unless inferwatch_gpu_xid_errors_total{xid!~"${FATAL_XIDS}"} offset 1h
or
increase(inferwatch_gpu_xid_errors_total{xid!~"${FATAL_XIDS}"}[1h]) > 0`,
        {
          summary: 'A GPU reported an application-level or recoverable Xid.',
          description:
            'GPU {{ $labels.gpu }} on {{ $labels.instance }} logged Xid {{ $labels.xid }} {{ $value | printf "%.0f" }} time(s) in the last hour.',
        },
      ),
      alert(
        'LLMNodeGPULost',
        'critical',
        'gpu',
        `
max_over_time(inferwatch_gpu_info[1h])
  unless on (instance, uuid) inferwatch_gpu_info
  and on (instance) inferwatch_build_info`,
        {
          summary:
            'A GPU the node had in the last hour is gone (fallen off the bus, or the driver lost it).',
          description:
            'GPU {{ $labels.gpu }} ({{ $labels.uuid }}, {{ $labels.pci_bus_id }}) on {{ $labels.instance }} no longer answers, while the agent does.',
        },
        { for: '2m' },
      ),
      alert(
        'LLMNodeGPUMemoryUncorrectable',
        'critical',
        'gpu',
        `
increase(inferwatch_gpu_ecc_errors_total{type="uncorrected", scope="volatile"}[15m]) > 0
  or inferwatch_gpu_remapped_rows_failure == 1`,
        {
          summary: 'GPU memory has uncorrectable errors or a failed row remap.',
          description:
            'GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} has uncorrectable memory errors; its results cannot be trusted.',
        },
        { keep_firing_for: '30m' },
      ),
      alert(
        'LLMNodeGPURemapPending',
        'warning',
        'gpu',
        'inferwatch_gpu_remapped_rows_pending == 1 or inferwatch_gpu_retired_pages_pending == 1',
        {
          summary: 'A GPU has a row remap or page retirement waiting for a GPU reset.',
          description:
            'GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} needs a reset in a maintenance window to activate remapped rows or retired pages.',
        },
        { for: '15m' },
      ),
      alert(
        'LLMNodeGPUThermalThrottle',
        'warning',
        'gpu',
        `
max by (node, instance, gpu, uuid) (
  rate(inferwatch_gpu_clock_event_seconds_total{reason=~"${THERMAL}"}[15m])
    or avg_over_time(inferwatch_gpu_clock_event_active{reason=~"${THERMAL}"}[15m])
) > ${s.gpu.thermal_throttle_ratio}`,
        {
          summary: 'A GPU is slowing its clocks to cool down.',
          description:
            'GPU {{ $labels.gpu }} on {{ $labels.instance }} spent {{ $value | humanizePercentage }} of the last 15m thermally slowed down.',
        },
        { for: '15m' },
      ),
      alert(
        'LLMNodeGPUPowerThrottle',
        'warning',
        'gpu',
        `
max by (node, instance, gpu, uuid) (
  rate(inferwatch_gpu_clock_event_seconds_total{reason="hw_power_brake_slowdown"}[15m])
    or avg_over_time(inferwatch_gpu_clock_event_active{reason="hw_power_brake_slowdown"}[15m])
) > 0
or
max by (node, instance, gpu, uuid) (
  rate(inferwatch_gpu_clock_event_seconds_total{reason="sw_power_cap"}[30m])
    or avg_over_time(inferwatch_gpu_clock_event_active{reason="sw_power_cap"}[30m])
) > ${s.gpu.power_cap_ratio}`,
        {
          summary: 'A GPU is held back by its power cap or an external power brake.',
          description:
            'GPU {{ $labels.gpu }} on {{ $labels.instance }} is power-limited {{ $value | humanizePercentage }} of the time.',
        },
        { for: '30m' },
      ),
      alert(
        'LLMNodeGPUNVLinkErrors',
        'warning',
        'gpu',
        `
sum by (node, instance, gpu, uuid) (
  increase(inferwatch_gpu_nvlink_errors_total{type=~"crc_data|replay|recovery"}[1h])
) > ${s.gpu.nvlink_errors_per_hour}`,
        {
          summary: 'NVLink error counters are rising.',
          description:
            'GPU {{ $labels.gpu }} on {{ $labels.instance }} counted {{ $value | printf "%.0f" }} NVLink errors in the last hour.',
        },
      ),
    ],
  };

  const capacity: RuleGroup = {
    name: 'inferwatch-capacity',
    rules: [
      alert(
        'LLMNodeKVCacheSaturated',
        'warning',
        'runtime',
        `
inferwatch_llm_kv_cache_usage_ratio > ${s.runtime.kv_cache_saturated_ratio}
  and on (instance, runtime, target, model) (
    rate(inferwatch_llm_preemptions_total[5m]) > 0
      or inferwatch_llm_requests_waiting > 0
  )`,
        {
          summary: 'The KV cache is full and requests are queued or preempted.',
          description:
            '{{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) has its KV cache {{ $value | humanizePercentage }} full while requests wait or are preempted.',
        },
        { for: '10m' },
      ),
      alert(
        'LLMNodeQueueBacklog',
        'warning',
        'runtime',
        `
inferwatch_llm_requests_waiting > ${s.runtime.queue_backlog_factor} * inferwatch_llm_max_concurrency
or
(inferwatch_llm_requests_waiting > ${s.runtime.queue_backlog_requests} unless inferwatch_llm_max_concurrency)`,
        {
          summary: 'More requests are waiting than the runtime can take on.',
          description:
            '{{ $value }} requests wait for {{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}).',
        },
        { for: '10m' },
      ),
      alert(
        'LLMNodeGPUMemoryExhausted',
        'warning',
        'gpu',
        `
inferwatch_gpu_memory_used_bytes / inferwatch_gpu_memory_total_bytes > ${s.gpu.memory_exhausted_ratio}
  and on (instance, uuid)
  group by (instance, uuid) (inferwatch_gpu_process_memory_used_bytes{runtime=~"${onDemand}"})`,
        {
          summary: 'GPU memory is nearly full on a GPU used by a runtime that allocates on demand.',
          description:
            'GPU {{ $labels.gpu }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} of its memory in use; the next model or a longer context will not fit.',
        },
        { for: '15m' },
      ),
    ],
  };

  const sloRecords: RecordRule[] = SLO_WINDOWS.flatMap((w) => [
    {
      record: `slo:sli_error:ratio_rate${w}`,
      expr: `
(
  sum by (model) (rate(inferwatch_llm_requests_total{outcome=~"error|rejected"}[${w}]))
    or sum by (model) (rate(inferwatch_llm_requests_total[${w}])) * 0
)
/ sum by (model) (rate(inferwatch_llm_requests_total[${w}]))`.trim(),
      labels: { slo: 'availability' },
    },
    {
      record: `slo:sli_error:ratio_rate${w}`,
      expr: `
(
  sum by (model) (rate(inferwatch_llm_time_to_first_token_seconds_count[${w}]))
    - sum by (model) (rate(inferwatch_llm_time_to_first_token_seconds_bucket{le="${s.slo.ttft_seconds}"}[${w}]))
)
/ sum by (model) (rate(inferwatch_llm_time_to_first_token_seconds_count[${w}]))`.trim(),
      labels: { slo: 'ttft' },
    },
  ]);
  const sloRules: RecordRule[] = [
    ...sloRecords,
    {
      record: 'slo:objective:ratio',
      expr: `vector(${s.slo.availability_objective})`,
      labels: { slo: 'availability' },
    },
    {
      record: 'slo:objective:ratio',
      expr: `vector(${s.slo.ttft_objective})`,
      labels: { slo: 'ttft' },
    },
    {
      record: 'slo:error_budget:ratio',
      expr: `vector(${budget.availability})`,
      labels: { slo: 'availability' },
    },
    { record: 'slo:error_budget:ratio', expr: `vector(${budget.ttft})`, labels: { slo: 'ttft' } },
    {
      record: 'model:inferwatch_llm_requests:rate1h',
      expr: 'sum by (model) (rate(inferwatch_llm_requests_total[1h]))',
    },
  ];

  const burn = (
    name: string,
    sloName: 'availability' | 'ttft',
    text: (windows: string) => { summary: string; description: string },
  ) =>
    BURN_TIERS.map((t) => {
      const threshold = round(t.factor * budget[sloName]);
      return alert(
        name,
        t.severity,
        'slo',
        `
slo:sli_error:ratio_rate${t.long}{slo="${sloName}"} > ${threshold}
  and slo:sli_error:ratio_rate${t.short}{slo="${sloName}"} > ${threshold}
  and on (model) model:inferwatch_llm_requests:rate1h > ${s.slo.min_requests_per_second}`,
        text(`${t.long} (and ${t.short})`),
        { for: t.for },
        { long: t.long, short: t.short },
      );
    });
  // One group: rules in a group run in order, so the burn alerts read this round's ratios.
  const slo: RuleGroup = {
    name: 'inferwatch-slo',
    rules: [
      ...sloRules,
      ...burn('LLMNodeAvailabilityBudgetBurn', 'availability', (windows) => ({
        summary: `Requests are failing fast enough to spend the ${pct(s.slo.availability_objective)} availability error budget early.`,
        description: `{{ $value | humanizePercentage }} of requests to {{ $labels.model }} failed over ${windows}.`,
      })),
      ...burn('LLMNodeTTFTBudgetBurn', 'ttft', (windows) => ({
        summary: `Too many requests wait longer than ${s.slo.ttft_seconds} s for their first token (objective ${pct(s.slo.ttft_objective)}).`,
        description: `{{ $value | humanizePercentage }} of requests to {{ $labels.model }} waited more than ${s.slo.ttft_seconds} s for the first token over ${windows}.`,
      })),
    ],
  };

  const probe: RuleGroup = {
    name: 'inferwatch-probe',
    rules: [
      alert(
        'LLMNodeProbeFailing',
        'critical',
        'probe',
        'inferwatch_probe_success{probe="latency"} == 0',
        {
          summary:
            'The synthetic inference probe fails: a user asking this runtime gets no answer.',
          description:
            'The probe of {{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) has failed for 5m; inferwatch_probe_runs_total says why.',
        },
        { for: '5m' },
      ),
      alert(
        'LLMNodeCanaryMismatch',
        'warning',
        'probe',
        `
sum by (node, instance, target, model) (
  increase(inferwatch_probe_runs_total{probe="canary", reason="content_mismatch"}[1h])
) >= ${s.probe.canary_mismatches_per_hour}`,
        {
          summary: 'The model answers questions with a known answer wrongly.',
          description:
            '{{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) answered {{ $value | printf "%.0f" }} canary question(s) wrongly in the last hour.',
        },
      ),
      alert(
        'LLMNodeProbePromptTokensChanged',
        'warning',
        'probe',
        'changes(inferwatch_probe_input_tokens{probe="latency"}[1h]) > 0',
        {
          summary:
            "The same probe prompt now counts a different number of tokens: the model's chat template or tokenizer changed.",
          description:
            'The prompt-token count of the latency probe of {{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) changed {{ $value | printf "%.0f" }} time(s) in the last hour, for the same prompt.',
        },
        { keep_firing_for: '1h' },
      ),
      alert(
        'LLMNodeProbeSkipped',
        'warning',
        'probe',
        `inferwatch_probe_consecutive_skips{probe="latency"} >= ${s.probe.skipped_runs}`,
        {
          summary:
            'The synthetic probe keeps being skipped: nothing is measuring what a user gets from this runtime.',
          description:
            'The latency probe of {{ $labels.model }} on {{ $labels.target }} ({{ $labels.instance }}) was skipped {{ $value | printf "%.0f" }} times in a row; inferwatch_probe_runs_total{result="skipped"} says why.',
        },
      ),
    ],
  };

  const quality: RuleGroup = {
    name: 'inferwatch-quality',
    rules: [
      alert(
        'LLMNodeQualityRegression',
        'critical',
        'quality',
        `
(
  inferwatch_eval_pass_ratio_upper_bound
    < inferwatch_eval_baseline_pass_ratio - ${s.quality.regression_margin}
)
* ignoring (weights, runtime_version, driver_version, prompt_tokens, fingerprint, trigger)
  group_left (runtime_version, driver_version)
  inferwatch_eval_fingerprint_info`,
        {
          summary:
            'A model answers its evaluation suite worse than its baseline, by more than chance: something under it changed.',
          description: `Suite {{ $labels.suite }} on {{ $labels.model }} ({{ $labels.target }}, {{ $labels.instance }}, {{ $labels.runtime }} {{ $labels.runtime_version }}, driver {{ $labels.driver_version }}): even the upper bound of its pass ratio, {{ $value | humanizePercentage }}, is more than ${Math.round(s.quality.regression_margin * 100)} points below its baseline.`,
        },
      ),
    ],
  };

  const events: RuleGroup = {
    name: 'inferwatch-oom',
    rules: [
      alert(
        'LLMNodeHostOOMKill',
        'warning',
        'host',
        'increase(inferwatch_host_oom_kills_total[10m]) > 0',
        {
          summary: 'The kernel OOM killer killed a process on an inference node.',
          description:
            '{{ $labels.instance }} had {{ $value | printf "%.0f" }} OOM kill(s) in the last 10m; inferwatch_oom_kill_victims_total names the process.',
        },
        { keep_firing_for: '15m' },
      ),
      alert(
        'LLMNodeCUDAOutOfMemory',
        'warning',
        'runtime',
        'increase(inferwatch_llm_cuda_oom_events_total[10m]) > 0',
        {
          summary: 'An inference runtime ran out of GPU memory.',
          description:
            '{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} logged {{ $value | printf "%.0f" }} CUDA out-of-memory error(s) in the last 10m.',
        },
        { keep_firing_for: '15m' },
      ),
    ],
  };

  const runtime: RuleGroup = {
    name: 'inferwatch-runtime',
    rules: [
      alert(
        'LLMNodeRuntimeDown',
        'warning',
        'runtime',
        'inferwatch_llm_runtime_up == 0',
        {
          summary: 'An inference runtime is down: it refuses connections or answers errors.',
          description:
            '{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} has refused the agent, or answered it with errors, for 5m.',
        },
        { for: '5m' },
      ),
      alert(
        'LLMNodeRuntimeUnresponsive',
        'warning',
        'runtime',
        'inferwatch_llm_runtime_unresponsive == 1',
        {
          summary:
            'An inference runtime takes connections but does not answer in time: it is saturated or hung, not down.',
          description: `{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} has not answered the agent's reads in time for ${s.runtime.unresponsive_for}; its last figures are being served.`,
        },
        { for: s.runtime.unresponsive_for },
      ),
      alert(
        'LLMNodeModelUnavailable',
        'critical',
        'runtime',
        `
group by (model) (max_over_time(inferwatch_llm_runtime_info{runtime!="ollama", model!=""}[1h]))
  unless group by (model) (inferwatch_llm_runtime_info)`,
        {
          summary: 'A model served in the last hour has no runtime serving it now, on any node.',
          description:
            'No runtime answers for {{ $labels.model }}: every replica the agents saw in the last hour is down or gone.',
        },
        { for: '2m' },
      ),
      alert(
        'LLMNodeRuntimeFlapping',
        'warning',
        'runtime',
        `changes(inferwatch_llm_runtime_up[30m]) >= ${2 * s.runtime.flaps_per_30m}`,
        {
          summary: 'An inference runtime keeps going down and coming back: it is crash-looping.',
          description:
            '{{ $labels.runtime }} {{ $labels.target }} on {{ $labels.instance }} went from up to down or back {{ $value | printf "%.0f" }} times in 30m.',
        },
      ),
    ],
  };

  const meta: RuleGroup = {
    name: 'inferwatch-agent',
    rules: [
      alert(
        'LLMNodeAgentDown',
        'warning',
        'agent',
        `up{${agent}} == 0 or absent(up{${agent}})`,
        {
          summary:
            'The inferwatch agent cannot be scraped: GPU and runtime alerts on its node are blind.',
          description: `{{ if $labels.instance }}Prometheus has not scraped {{ $labels.instance }} (job ${s.jobs.agent}) for 5m.{{ else }}Prometheus has had no target in job ${s.jobs.agent} for 5m: service discovery lost the agents.{{ end }}`,
        },
        { for: '5m' },
      ),
      alert(
        'LLMNodeHostDown',
        'critical',
        'host',
        `up{job="${s.jobs.node_exporter}", node!=""} == 0 and on (node) up{${agent}} == 0`,
        {
          summary: 'An inference node is unreachable: neither node_exporter nor the agent answers.',
          description:
            'Node {{ $labels.node }} has answered neither node_exporter nor inferwatch scrapes for 3m.',
        },
        { for: '3m' },
      ),
      alert(
        'LLMNodeCollectorFailing',
        'warning',
        'agent',
        'inferwatch_collector_success == 0',
        {
          summary:
            "One of the agent's sources has been failing for 15 minutes; its metrics are missing.",
          description:
            'Collector {{ $labels.collector }} on {{ $labels.instance }} has failed for 15m; inferwatch_source_errors_total and `inferwatch doctor` say why.',
        },
        { for: '15m' },
      ),
      alert('Watchdog', 'none', 'agent', 'vector(1)', {
        summary: 'Always firing: proves the alerting pipeline works end to end.',
        description:
          "This alert always fires. A dead man's switch outside this Prometheus and Alertmanager must page when it stops arriving.",
      }),
    ],
  };

  const costRules: RuleGroup = {
    name: 'inferwatch-cost',
    rules: [
      ...costRecords(),
      alert(
        'LLMNodeEnergyPerTokenAnomaly',
        'warning',
        'cost',
        `
instance:inferwatch_gpu_energy_joules_per_generated_token:ratio_rate1h
  > ${s.cost.energy_per_token_factor} * (instance:inferwatch_gpu_energy_joules_per_generated_token:ratio_rate1h offset 1w)
  and on (node, instance) instance:inferwatch_llm_served_generation_tokens:rate1h > 1`,
        {
          summary:
            'Each generated token costs far more GPU energy than in the same hour last week.',
          description: `{{ $labels.instance }} spends {{ $value | printf "%.3g" }} J per generated token, more than ${s.cost.energy_per_token_factor}x the same hour last week.`,
        },
        { for: '2h' },
      ),
      alert(
        'LLMNodeGPUsIdle',
        'warning',
        'cost',
        `
avg by (node, instance) (avg_over_time(inferwatch_gpu_utilization_ratio[1h])) < ${s.cost.idle_utilization_ratio}
  and on (node, instance)
  instance:inferwatch_llm_served_requests:rate1h * 3600 < ${s.cost.idle_requests}`,
        {
          summary:
            "A node's GPUs have done almost nothing for 6 hours: money spent on idle hardware.",
          description:
            '{{ $labels.instance }} has averaged {{ $value | humanizePercentage }} GPU utilization, with almost no requests served, every hour for 6 hours.',
        },
        { for: '6h' },
      ),
      alert(
        'LLMNodeCostAboveAPIReference',
        'warning',
        'cost',
        `
instance_reference:inferwatch_cost_api_equivalent_usd:rate1h
  < on (node, instance) group_left ()
  instance:inferwatch_cost_usd:rate1h`,
        {
          summary: `Serving these tokens locally has cost more than the API reference price for ${s.cost.above_reference_days} days.`,
          description: `{{ $labels.instance }} costs more per hour than {{ $labels.reference }} would charge for the same tokens ({{ $value | printf "%.2f" }} USD/h at the API price), for ${s.cost.above_reference_days} days.`,
        },
        { for: `${s.cost.above_reference_days}d` },
      ),
    ],
  };
  return [aggregates(), gpu, capacity, slo, probe, quality, events, runtime, meta, costRules];
}

/**
 * Cost per hour and per unit of work, with the probe's own traffic taken out of what was
 * served (`or ... * 0`: where no probe runs, nothing is taken out).
 */
function costRecords(): RecordRule[] {
  const served = (counter: string, selector: string, probeCounter: string) =>
    `
sum by (node, instance) (rate(${counter}${selector}[1h]))
  - (sum by (node, instance) (rate(${probeCounter}[1h])) or sum by (node, instance) (rate(${counter}${selector}[1h])) * 0)`.trim();
  const perUnit = (record: string, per: string, scale: string): RecordRule => ({
    record,
    expr: `instance:inferwatch_cost_usd:rate1h / on (node, instance) (${per} * 3600) * ${scale}`,
  });
  return [
    {
      record: 'instance:inferwatch_cost_usd:rate1h',
      expr: 'sum by (node, instance) (rate(inferwatch_cost_usd_total[1h])) * 3600',
    },
    {
      record: 'instance:inferwatch_llm_served_requests:rate1h',
      expr: served(
        'inferwatch_llm_requests_total',
        '{outcome="ok"}',
        'inferwatch_probe_requests_total',
      ),
    },
    {
      record: 'instance:inferwatch_llm_served_generation_tokens:rate1h',
      expr: served(
        'inferwatch_llm_generation_tokens_total',
        '',
        'inferwatch_probe_output_tokens_total',
      ),
    },
    {
      record: 'instance:inferwatch_llm_served_prompt_tokens:rate1h',
      expr: served('inferwatch_llm_prompt_tokens_total', '', 'inferwatch_probe_input_tokens_total'),
    },
    perUnit(
      'instance:inferwatch_cost_usd_per_million_generated_tokens:ratio_rate1h',
      'instance:inferwatch_llm_served_generation_tokens:rate1h',
      '1e6',
    ),
    perUnit(
      'instance:inferwatch_cost_usd_per_million_prompt_tokens:ratio_rate1h',
      'instance:inferwatch_llm_served_prompt_tokens:rate1h',
      '1e6',
    ),
    perUnit(
      'instance:inferwatch_cost_usd_per_thousand_requests:ratio_rate1h',
      'instance:inferwatch_llm_served_requests:rate1h',
      '1e3',
    ),
    {
      record: 'instance:inferwatch_cost_usd_per_task:ratio_rate1h',
      expr: 'instance:inferwatch_cost_usd:rate1h / on (node, instance) (instance:inferwatch_llm_served_requests:rate1h * 3600 / on (node, instance) max by (node, instance) (inferwatch_cost_requests_per_task))',
    },
    {
      record: 'instance:inferwatch_gpu_energy_joules_per_generated_token:ratio_rate1h',
      expr: 'sum by (node, instance) (rate(inferwatch_gpu_energy_joules_total[1h])) / on (node, instance) instance:inferwatch_llm_served_generation_tokens:rate1h',
    },
    {
      record: 'instance_reference:inferwatch_cost_api_equivalent_usd:rate1h',
      expr: `
(
  instance:inferwatch_llm_served_prompt_tokens:rate1h
    * on (node, instance) group_right () max by (node, instance, reference) (inferwatch_cost_api_reference_usd_per_million_tokens{direction="input"})
  + on (node, instance, reference)
  instance:inferwatch_llm_served_generation_tokens:rate1h
    * on (node, instance) group_right () max by (node, instance, reference) (inferwatch_cost_api_reference_usd_per_million_tokens{direction="output"})
) * 3600 / 1e6`.trim(),
    },
    {
      record: 'instance_reference:inferwatch_cost_savings_usd:rate1h',
      expr: 'instance_reference:inferwatch_cost_api_equivalent_usd:rate1h - on (node, instance) group_left () instance:inferwatch_cost_usd:rate1h',
    },
    {
      record: 'instance:inferwatch_cost_idle_usd:rate1h',
      expr: 'instance:inferwatch_cost_usd:rate1h and on (node, instance) instance:inferwatch_llm_served_requests:rate1h * 3600 < 1',
    },
  ];
}

/** The aggregates the dashboards read, named level:metric:operations. */
function aggregates(): RuleGroup {
  const quantiles = (metric: string): RecordRule[] =>
    ['0.5', '0.95', '0.99'].map((q) => ({
      record: `model_quantile:${metric}:histogram_quantile_rate5m`,
      expr: `histogram_quantile(${q}, sum by (model, le) (rate(${metric}_bucket[5m])))`,
      labels: { quantile: q },
    }));
  const perSecond = (level: string, by: string, counter: string): RecordRule => ({
    record: `${level}:${counter.replace(/_total$/, '')}:rate5m`,
    expr: `sum by (${by}) (rate(${counter}[5m]))`,
  });
  return {
    name: 'inferwatch-aggregates.rules',
    rules: [
      ...quantiles('inferwatch_llm_time_to_first_token_seconds'),
      ...quantiles('inferwatch_llm_inter_token_latency_seconds'),
      ...quantiles('inferwatch_llm_request_duration_seconds'),
      perSecond('model', 'model', 'inferwatch_llm_generation_tokens_total'),
      perSecond('model', 'model', 'inferwatch_llm_prompt_tokens_total'),
      perSecond('model_outcome', 'model, outcome', 'inferwatch_llm_requests_total'),
      perSecond('instance', 'node, instance', 'inferwatch_llm_generation_tokens_total'),
      {
        record: 'instance:inferwatch_gpu_utilization:avg',
        expr: 'avg by (node, instance) (inferwatch_gpu_utilization_ratio)',
      },
      {
        record: 'instance:inferwatch_gpu_memory_used:ratio',
        expr: 'sum by (node, instance) (inferwatch_gpu_memory_used_bytes) / sum by (node, instance) (inferwatch_gpu_memory_total_bytes)',
      },
      {
        record: 'instance:inferwatch_gpu_power_draw_watts:sum',
        expr: 'sum by (node, instance) (inferwatch_gpu_power_draw_watts)',
      },
    ],
  };
}

/** A figure as a person reads it: ten significant digits, so 0.1 * 100 is 10. */
export function round(value: number): number {
  return Number(value.toPrecision(10));
}

function pct(ratio: number): string {
  return `${round(ratio * 100)} %`;
}

/** The rule file's text, as committed: generated, never edited by hand. */
export function rulesText(settings: RuleSettings, source = 'alerts/settings.yaml'): string {
  const header = `# Generated by \`npm run bundle\` from ${source}; do not edit.\n# Change thresholds and objectives there, or in a copy: see alerts/settings.yaml.\n`;
  return header + stringify({ groups: ruleGroups(settings) }, { lineWidth: 0 });
}
