import { z } from 'zod';
import { costConfig } from '../collectors/cost/config.js';
import { dcgmConfig } from '../collectors/dcgm/config.js';
import { hostConfig } from '../collectors/host/config.js';
import { kubernetesConfig } from '../collectors/kubernetes/config.js';
import { kernelEventsConfig } from '../collectors/kernel-events/config.js';
import { nvidiaSmiConfig } from '../collectors/nvidia-smi/config.js';
import { runtimeLogsConfig } from '../collectors/runtime-logs/config.js';
import { runtimesConfig } from '../collectors/runtimes/config.js';
import { HOST_PORT, ms } from '../core/config-fields.js';
import { evaluationConfig } from '../eval/config.js';
import { probeConfig } from '../probe/config.js';
import { proxyConfig } from '../proxy/config.js';
import { webConfig } from '../server/config.js';

/**
 * The agent's configuration: the top-level fields, and each source's own block, composed.
 * A block lives in its source's folder (`config.ts`), beside the code that reads it.
 */
export const ConfigSchema = z
  .strictObject({
    listen: z
      .string()
      .regex(HOST_PORT, 'must be HOST:PORT, such as 0.0.0.0:9500 or [::1]:9500')
      .refine((l) => Number(l.slice(l.lastIndexOf(':') + 1)) <= 65_535, {
        message: 'the port must be 0 to 65535',
      })
      .default('0.0.0.0:9500')
      .describe('Address of the HTTP server for /metrics (the --listen flag overrides it).'),
    log_level: z
      .enum(['debug', 'info', 'warn', 'error'])
      .default('info')
      .describe('Least severe log level written (to stderr).'),
    log_format: z
      .enum(['auto', 'json', 'text'])
      .default('auto')
      .describe(
        'How the log is written: json (one object a line, for journald and log collectors), text (the time, the level in words, the message, then key=value), or auto: text when stderr is a terminal, json otherwise.',
      ),
    state_dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Where what must survive restarts and upgrades is kept (the evaluation's baselines). Default: $STATE_DIRECTORY (systemd's StateDirectory=), else /var/lib/inferwatch as root, else ~/.local/state/inferwatch.",
      ),
    web: webConfig,
    collectors: z
      .strictObject({
        timeout_ms: ms(50, 60_000)
          .default(500)
          .describe(
            "Longest a scrape waits for a source: for a collector to hand over, and for the first read of a source read over HTTP (dcgm-exporter, runtimes), which are otherwise read ahead of the scrapes and never waited for. A source still reading then is served from its last good values (their age in inferwatch_collector_last_success_timestamp_seconds) or left out; its read goes on in the background. Keep it well under Prometheus' scrape_timeout.",
          ),
        max_series_per_family: z
          .int()
          .min(10)
          .max(1_000_000)
          .default(10_000)
          .describe(
            'Series one source may export in one family; beyond it they are left out and counted in inferwatch_collector_series_dropped (a runtime naming thousands of models, say).',
          ),
        max_staleness_ms: ms(1000, 3_600_000)
          .default(60_000)
          .describe(
            "A source's last good values are served at most this long after they were read; older, they are left out.",
          ),
        nvidia_smi: nvidiaSmiConfig,
        dcgm: dcgmConfig,
        kernel_events: kernelEventsConfig,
        runtimes: runtimesConfig,
        runtime_logs: runtimeLogsConfig,
        host: hostConfig,
        kubernetes: kubernetesConfig,
      })
      .prefault({})
      .describe('The sources of metrics.'),
    probe: probeConfig,
    evaluation: evaluationConfig
      .prefault({})
      .describe(
        'Quality as a metric: suites of questions with known answers, run again when anything under a model changes.',
      ),
    proxy: proxyConfig,
    cost: costConfig,
  })
  .refine((c) => !c.proxy.routes.some((r) => r.listen === c.listen), {
    message: 'a proxy route listens on the address of /metrics',
    path: ['proxy', 'routes'],
  })
  .refine((c) => c.proxy.routes.length === 0 || c.collectors.runtimes.enabled, {
    message:
      'the runtimes collector serves what the routes measure: collectors.runtimes.enabled must stay true with proxy routes',
    path: ['proxy', 'routes'],
  });

export type Config = z.output<typeof ConfigSchema>;
