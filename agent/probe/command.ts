import { randomUUID } from 'node:crypto';
import type { Agent } from '../agent.js';
import type { RuntimeEndpoint } from '../shared/runtime-endpoints.js';
import { promptTokensCountedBy } from '../collectors/runtimes/adapter.js';
import { runtimeApi } from '../collectors/runtimes/api.js';
import { identify } from '../collectors/runtimes/discovery.js';
import { liveLoadOf } from '../collectors/runtimes/load.js';
import type { AgentConfig } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { HttpClient } from '../core/http.js';
import { canariesOf, probeSettings, probeTargets } from './settings.js';
import { formatResult } from './format.js';
import { runProbe } from './run.js';
import { nodeStreaming, type StreamingHttp } from './transport.js';
import type { ProbeModule } from './types.js';

export interface ProbeCommandWorld {
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly stream?: StreamingHttp;
}

const LOOKUP = { timeoutMs: 5000, maxBytes: 1024 * 1024 };

/**
 * `inferwatch probe`: finds the runtimes as the agent would (or takes one URL), probes each
 * once, prints the result for a person. Exit 0 when every probe passed, 1 otherwise.
 */
export async function probeCommand(
  config: AgentConfig,
  agent: Agent,
  world: ProbeCommandWorld,
  options: { readonly target?: string | undefined; readonly module: ProbeModule },
  out: (text: string) => void,
): Promise<number> {
  await agent.refreshRuntimes();
  let endpoints: readonly RuntimeEndpoint[] = agent.runtimeEndpoints.current;
  const wanted = options.target?.replace(/\/+$/, '');
  if (wanted !== undefined) {
    endpoints = endpoints.filter(
      (e) => e.target === wanted || e.url.replace(/\/+$/, '') === wanted,
    );
    if (endpoints.length === 0 && /^https?:\/\//.test(wanted)) {
      const adapter = await identify(world.http, wanted, LOOKUP);
      if (!adapter) {
        out(`${wanted}: nothing there answers like a known runtime\n`);
        return 1;
      }
      const api = runtimeApi(world.http, { baseUrl: wanted, headers: {}, ...LOOKUP });
      endpoints = [
        {
          runtime: adapter.kind,
          generation: adapter.generation,
          target: new URL(wanted).host,
          url: wanted,
          probeUrl: wanted,
          headers: {},
          promptTokensCounted: promptTokensCountedBy(adapter),
          runtimeVersion: () => undefined,
          readLoad: async () => {
            const facts = await adapter.facts(api);
            return liveLoadOf(adapter, await adapter.read(api, facts, wanted), facts);
          },
        },
      ];
    }
  }
  const targets = probeTargets(endpoints, config.probe);
  if (targets.length === 0) {
    out(
      wanted
        ? `no probed runtime is named ${wanted}; runtimes found: ${agent.runtimeEndpoints.current.map((e) => e.target).join(', ') || 'none'}\n`
        : 'no runtime to probe: none was found or configured (see inferwatch doctor)\n',
    );
    return 1;
  }
  const settings = probeSettings(config.probe);
  const canary = canariesOf(config.probe)[0];
  let failed = 0;
  for (const target of targets) {
    const result = await runProbe(
      target,
      options.module,
      options.module === 'canary' ? canary : undefined,
      settings,
      {
        http: world.http,
        stream: world.stream ?? nodeStreaming,
        clock: world.clock,
        requestId: randomUUID,
      },
    );
    out(formatResult(result));
    if (result.outcome !== 'success') failed++;
  }
  return failed === 0 ? 0 : 1;
}
