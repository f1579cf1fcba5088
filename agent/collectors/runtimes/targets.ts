import { runtimeTodo } from './todo.js';
import { CredentialError, readApiKey } from '../../core/credentials.js';
import type { Logger } from '../../core/logger.js';
import type { SourceErrors } from '../../core/self-metrics.js';
import type { StateLog } from '../../core/state-log.js';
import type { Discovered } from './discovery.js';
import { hostPort, portOf } from './target-name.js';
import type { RuntimeTarget, Standing } from './target.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function sameHost(a: string, b: string): boolean {
  return a === b || (LOOPBACK.has(a) && LOOPBACK.has(b));
}

/**
 * The ports of configured runtimes on the host discovery looks on: a configured runtime is not
 * found a second time (as localhost and as 127.0.0.1, say).
 */
export function configuredPorts(
  targets: ReadonlyMap<string, RuntimeTarget>,
  host: string,
): Set<number> {
  return new Set(
    [...targets.values()]
      .filter((t) => t.config && sameHost(new URL(t.url).hostname, host))
      .map((t) => portOf(t.url)),
  );
}

/**
 * What a discovery pass found, merged into the targets: a runtime found anew (or another
 * runtime on a known port) is added; one no longer found is dropped, unless it is configured
 * or still reads well (one slow answer during a pass does not drop it) and is not a pod's.
 */
export function mergeFound(
  targets: Map<string, RuntimeTarget>,
  found: readonly Discovered[],
  context: {
    readonly make: (found: Discovered & { readonly name: string }) => RuntimeTarget;
    readonly logger: Logger;
  },
): void {
  const names = new Set<string>();
  for (const d of found) {
    const name = d.name ?? hostPort(d.url);
    names.add(name);
    const known = targets.get(name);
    if (known && known.adapter === d.adapter && known.url === d.url) continue;
    known?.reader.stop();
    targets.set(name, context.make({ ...d, name }));
    context.logger.info({ target: name, runtime: d.adapter.kind }, 'runtime found');
  }
  for (const [name, target] of targets) {
    if (target.config || names.has(name)) continue;
    // A pod that is gone is gone, however well it read; its address may be another's soon.
    if (!target.place && target.standing()?.kind === 'ok') continue;
    target.reader.stop();
    targets.delete(name);
    context.logger.info({ target: name }, 'runtime no longer answers; dropped until found again');
  }
}

/** A read ended: counted and logged as it happens, not at the next scrape. */
export function reportSettled(
  collector: string,
  target: RuntimeTarget,
  standing: Standing,
  context: {
    readonly errors: SourceErrors;
    readonly stateLog: StateLog;
    readonly maxModels: number;
  },
): void {
  const source = `${collector}/${target.name}`;
  if (standing.kind !== 'ok') {
    context.errors.count(collector, standing.reason);
    target.problem = standing.message;
    target.todo = runtimeTodo(standing.reason);
    context.stateLog.failing(
      source,
      standing.reason,
      `${target.name}: ${standing.message}`,
      target.todo,
    );
    return;
  }
  target.problem = undefined;
  target.todo = undefined;
  context.stateLog.ok(source);
  const served = target.reader.last?.value;
  const skipped = served?.reading.skippedLines ?? 0;
  // Served, but said: a runtime printing lines that are not the format is lying somewhere.
  if (skipped > 0) {
    context.errors.count(collector, 'bad_lines');
    context.stateLog.failing(
      `${source}/lines`,
      'bad_lines',
      `${target.name}: ${skipped} lines of its metrics did not parse and were left out`,
      runtimeTodo('bad_lines'),
    );
  } else context.stateLog.ok(`${source}/lines`);
  if (served && served.dropped > 0)
    context.stateLog.failing(
      `${source}/models`,
      'too_many_models',
      `${target.name}: reports more models than collectors.runtimes.max_models (${context.maxModels}); ${served.dropped} left out`,
      runtimeTodo('too_many_models'),
    );
  else context.stateLog.ok(`${source}/models`);
}

/**
 * A configured target's API key, read again each refresh (a rotated key is picked up) into its
 * headers. False, and the problem logged, when it cannot be read: no request goes without it.
 */
export async function refreshCredentials(
  collector: string,
  target: RuntimeTarget,
  stateLog: StateLog,
): Promise<boolean> {
  if (!target.config) return true;
  const source = `${collector}/${target.name}/credentials`;
  try {
    const key = await readApiKey(target.config);
    target.headers = key
      ? { ...target.config.headers, authorization: `Bearer ${key}` }
      : { ...target.config.headers };
    target.credentialProblem = undefined;
  } catch (error) {
    target.credentialProblem =
      error instanceof CredentialError ? error.message : 'the API key cannot be read';
    stateLog.failing(
      source,
      'credentials',
      `${target.name}: ${target.credentialProblem}`,
      runtimeTodo('credentials'),
    );
    return false;
  }
  stateLog.ok(source);
  return true;
}
