import { z } from 'zod';
import { PAGED_XIDS } from '../../../agent/shared/gpu-metrics.js';
import { dcgm, gpu, self } from '../metrics.js';
import { promql } from '../promql.js';
import { defineAlert, percent, type Area } from '../rule.js';
import { ratio } from '../settings-fields.js';

/** The GPU area's thresholds: `gpu:` in the settings file. */
export const GPU_SETTINGS = z.strictObject({
  thermal_throttle_ratio: ratio,
  power_cap_ratio: ratio,
  nvlink_errors_per_hour: z.number().min(0),
  memory_exhausted_ratio: ratio,
});

/** 144, 145, 146 as 144-146: the paged Xids as a person reads them. */
function ranges(codes: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < codes.length;) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === (codes[j] as number) + 1) j++;
    out.push(j - i >= 2 ? `${codes[i]}-${codes[j]}` : codes.slice(i, j + 1).join(', '));
    i = j + 1;
  }
  return out.join(', ');
}

export const GPU_ALERTS = {
  gpuXidFatal: defineAlert(
    'LLMNodeGPUXidFatal',
    'critical',
    'gpu',
    () => `an Xid whose NVIDIA action is reset, reboot or drain (${ranges(PAGED_XIDS)}), held 30m`,
  ),
  gpuXidNonFatal: defineAlert(
    'LLMNodeGPUXidNonFatal',
    'warning',
    'gpu',
    () => 'any other Xid in the last hour',
  ),
  gpuLost: defineAlert(
    'LLMNodeGPULost',
    'critical',
    'gpu',
    () =>
      'a GPU seen in the last hour is gone while the agent answers (also when every GPU is gone)',
  ),
  gpuMemoryUncorrectable: defineAlert(
    'LLMNodeGPUMemoryUncorrectable',
    'critical',
    'gpu',
    () => 'uncorrectable ECC errors rose, or a row remap failed, held 30m',
  ),
  gpuRemapPending: defineAlert(
    'LLMNodeGPURemapPending',
    'warning',
    'gpu',
    () => 'a row remap or page retirement waits for a GPU reset',
  ),
  gpuRecoveryAction: defineAlert(
    'LLMNodeGPURecoveryActionRequired',
    'critical',
    'gpu',
    () => 'the driver asks for a GPU reset, a node reboot or a drain (recovery action), held 1m',
  ),
  gpuPCIeLinkDegraded: defineAlert(
    'LLMNodeGPUPCIeLinkDegraded',
    'warning',
    'gpu',
    () =>
      'a PCIe link narrower than its slot allows, or slower through 5m in which the GPU is over half busy, for 15m',
  ),
  gpuThermalThrottle: defineAlert(
    'LLMNodeGPUThermalThrottle',
    'warning',
    'gpu',
    (s) => `thermal slowdown more than ${percent(s.gpu.thermal_throttle_ratio)} of 15m`,
  ),
  gpuPowerThrottle: defineAlert(
    'LLMNodeGPUPowerThrottle',
    'warning',
    'gpu',
    (s) =>
      `a hardware power brake, or at the software cap more than ${percent(s.gpu.power_cap_ratio)} of 30m`,
  ),
  gpuNVLinkErrors: defineAlert(
    'LLMNodeGPUNVLinkErrors',
    'warning',
    'gpu',
    (s) =>
      `NVLink CRC-data, replay and recovery errors above ${s.gpu.nvlink_errors_per_hour} an hour (needs dcgm-exporter)`,
  ),
} as const;

const FATAL_XIDS = PAGED_XIDS.join('|');

const PCIE_SUMMARY = 'A GPU talks to its host over a PCIe link below what its slot allows.';

/** inferwatch_gpu_recovery_action's value in words, as an alert template. */
const RECOVERY_ACTION_TEXT = [
  '{{ if eq $value 1.0 }}a GPU reset',
  '{{ else if eq $value 2.0 }}a node reboot',
  '{{ else if eq $value 3.0 }}peer-to-peer traffic drained',
  '{{ else if eq $value 4.0 }}a drain and a GPU reset',
  '{{ else }}recovery action {{ $value }}{{ end }}',
].join('');
const THERMAL = 'hw_thermal_slowdown|sw_thermal_slowdown|hw_slowdown';

/**
 * The share of `window` a GPU's clocks were lowered for the reasons `matcher` picks: the
 * driver's counter where it has one, the sampled flag otherwise.
 */
function slowedShare(matcher: string, window: string): string {
  return promql`
max by (node, instance, gpu, uuid) (
  rate(${gpu.GPU_CLOCK_EVENT_SECONDS}{${matcher}}[${window}])
    or avg_over_time(${gpu.GPU_CLOCK_EVENT_ACTIVE}{${matcher}}[${window}])
)`;
}

/** The GPUs themselves: Xid errors, a GPU lost, memory errors, throttling, NVLink. */
export const gpuArea: Area = {
  name: 'gpu',
  alerts: Object.values(GPU_ALERTS),
  tests: ['gpu.test.yml'],
  groups: (s, { alert }) => [
    {
      name: 'inferwatch-gpu',
      rules: [
        alert(
          GPU_ALERTS.gpuXidFatal,
          promql`increase(${gpu.GPU_XID_ERRORS}{xid=~"${FATAL_XIDS}"}[15m]) > 0`,
          {
            summary: 'A GPU reported an Xid that needs a GPU reset or a reboot.',
            description:
              'GPU {{ $labels.gpu }} ({{ $labels.pci_bus_id }}) on {{ $labels.instance }} logged Xid {{ $labels.xid }} {{ $value | printf "%.0f" }} time(s) in 15m. Drain the node, then act on the Xid (runbook table).',
          },
          { keep_firing_for: '30m' },
        ),
        alert(
          GPU_ALERTS.gpuXidNonFatal,
          // Non-fatal codes are not made to exist at 0 (the paged ones are): a code's first
          // event makes a series at 1, which increase() cannot see, so a series born in the
          // hour counts whole.
          promql`
${gpu.GPU_XID_ERRORS}{xid!~"${FATAL_XIDS}"} > 0
  unless ${gpu.GPU_XID_ERRORS}{xid!~"${FATAL_XIDS}"} offset 1h
or
increase(${gpu.GPU_XID_ERRORS}{xid!~"${FATAL_XIDS}"}[1h]) > 0`,
          {
            summary: 'A GPU reported an application-level or recoverable Xid.',
            description:
              'GPU {{ $labels.gpu }} on {{ $labels.instance }} logged Xid {{ $labels.xid }} {{ $value | printf "%.0f" }} time(s) in the last hour.',
          },
        ),
        alert(
          GPU_ALERTS.gpuLost,
          promql`
max_over_time(${gpu.GPU_INFO}[1h])
  unless on (instance, uuid) ${gpu.GPU_INFO}
  and on (instance) ${self.BUILD_INFO}`,
          {
            summary:
              'A GPU the node had in the last hour is gone (fallen off the bus, or the driver lost it).',
            description:
              'GPU {{ $labels.gpu }} ({{ $labels.uuid }}, {{ $labels.pci_bus_id }}) on {{ $labels.instance }} no longer answers, while the agent does.',
          },
          { for: '2m' },
        ),
        alert(
          GPU_ALERTS.gpuMemoryUncorrectable,
          promql`
increase(${gpu.GPU_ECC_ERRORS}{type="uncorrected", scope="volatile"}[15m]) > 0
  or ${gpu.GPU_REMAPPED_ROWS_FAILURE} == 1`,
          {
            summary: 'GPU memory has uncorrectable errors or a failed row remap.',
            description:
              'GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} has uncorrectable memory errors; its results cannot be trusted.',
          },
          { keep_firing_for: '30m' },
        ),
        alert(
          GPU_ALERTS.gpuRemapPending,
          promql`${gpu.GPU_REMAPPED_ROWS_PENDING} == 1 or ${gpu.GPU_RETIRED_PAGES_PENDING} == 1`,
          {
            summary: 'A GPU has a row remap or page retirement waiting for a GPU reset.',
            description:
              'GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} needs a reset in a maintenance window to activate remapped rows or retired pages.',
          },
          { for: '15m' },
        ),
        alert(
          GPU_ALERTS.gpuRecoveryAction,
          promql`${gpu.GPU_RECOVERY_ACTION} > 0`,
          {
            summary: 'The GPU driver asks for a GPU reset, a node reboot or a drain.',
            description: `GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} needs ${RECOVERY_ACTION_TEXT}, says its driver; until then its work may fail or be wrong.`,
          },
          { for: '1m' },
        ),
        // The width does not change with load. The generation drops whenever the GPU idles
        // (power saving), so a slow link counts only when it stayed slow through 5 minutes in
        // which the GPU was over half busy.
        alert(
          GPU_ALERTS.gpuPCIeLinkDegraded,
          promql`
max without (state) (${gpu.GPU_PCIE_LINK_WIDTH}{state="current"})
  < max without (state) (${gpu.GPU_PCIE_LINK_WIDTH}{state="max"})`,
          {
            summary: PCIE_SUMMARY,
            description:
              'GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} has run its PCIe link at x{{ $value | printf "%.0f" }} for 15m, narrower than its slot allows; model loads and host transfers are slower.',
          },
          { for: '15m' },
          { link: 'width' },
        ),
        alert(
          GPU_ALERTS.gpuPCIeLinkDegraded,
          promql`
(
  max without (state) (max_over_time(${gpu.GPU_PCIE_LINK_GENERATION}{state="current"}[5m]))
    < max without (state) (${gpu.GPU_PCIE_LINK_GENERATION}{state="max"})
)
  and on (instance, uuid) avg_over_time(${gpu.GPU_UTILIZATION}[5m]) > 0.5`,
          {
            summary: PCIE_SUMMARY,
            description:
              'GPU {{ $labels.gpu }} ({{ $labels.uuid }}) on {{ $labels.instance }} has run its PCIe link at generation {{ $value | printf "%.0f" }} or lower for 15m while busy, below what its slot allows; model loads and host transfers are slower.',
          },
          { for: '15m' },
          { link: 'generation' },
        ),
        alert(
          GPU_ALERTS.gpuThermalThrottle,
          promql`
${slowedShare(`reason=~"${THERMAL}"`, '15m')} > ${s.gpu.thermal_throttle_ratio}`,
          {
            summary: 'A GPU is slowing its clocks to cool down.',
            description:
              'GPU {{ $labels.gpu }} on {{ $labels.instance }} spent {{ $value | humanizePercentage }} of the last 15m thermally slowed down.',
          },
          { for: '15m' },
        ),
        alert(
          GPU_ALERTS.gpuPowerThrottle,
          promql`
${slowedShare('reason="hw_power_brake_slowdown"', '15m')} > 0
or
${slowedShare('reason="sw_power_cap"', '30m')} > ${s.gpu.power_cap_ratio}`,
          {
            summary: 'A GPU is held back by its power cap or an external power brake.',
            description:
              'GPU {{ $labels.gpu }} on {{ $labels.instance }} is power-limited {{ $value | humanizePercentage }} of the time.',
          },
          { for: '30m' },
        ),
        alert(
          GPU_ALERTS.gpuNVLinkErrors,
          promql`
sum by (node, instance, gpu, uuid) (
  increase(${dcgm.GPU_NVLINK_ERRORS}{type=~"crc_data|replay|recovery"}[1h])
) > ${s.gpu.nvlink_errors_per_hour}`,
          {
            summary: 'NVLink error counters are rising.',
            description:
              'GPU {{ $labels.gpu }} on {{ $labels.instance }} counted {{ $value | printf "%.0f" }} NVLink errors in the last hour.',
          },
        ),
      ],
    },
  ],
};
