import { z } from 'zod';
import { CollectorError } from '../../core/collector.js';
import type { HttpResponse } from '../../core/http.js';
import { parseExposition, type ParsedExposition } from '../../core/prom-text.js';
import type { GenerationSurface } from '../../shared/generation-api.js';
import type { PromptTokensCounted, RuntimeLoad } from '../../shared/runtime-endpoints.js';
import type { Concept, Reading } from './reading.js';

/** One target's HTTP API: its base URL, headers, deadline and size cap already applied. */
export interface RuntimeApi {
  get(path: string): Promise<HttpResponse>;
}

/** What changes rarely, read at discovery and every rediscovery: not every scrape. */
export interface Facts {
  readonly version?: string | undefined;
  /** The served model, for runtimes whose metrics carry no model label. */
  readonly model?: string | undefined;
  readonly maxConcurrency?: number | undefined;
  /** Models on disk, for runtimes that load them on demand (Ollama). */
  readonly installedModels?: readonly string[] | undefined;
}

/**
 * One runtime: everything the agent knows about it lives here, and the rest of the agent (the
 * config's runtime kinds, discovery's ports, the probe's API, the metering proxy's paths, the
 * runtime table of docs/runtimes.md) is derived from the list of adapters.
 */
export interface RuntimeAdapter<K extends string = string> {
  /** Its name in config and in the `runtime` label. */
  readonly kind: K;
  /** Its name for people (docs/runtimes.md, doctor). */
  readonly title: string;
  /** Ports it listens on by default, for auto-discovery. */
  readonly defaultPorts: readonly number[];
  /**
   * Its own metrics endpoint, for the example in docs/runtimes.md of scraping it beside the agent, and
   * the flag that switches it on where one must; none for a runtime without one (Ollama).
   */
  readonly ownMetrics?: { readonly path: string; readonly switchedOnBy?: string } | undefined;
  /** How it serves generations: the probe's API, the proxy's paths. */
  readonly generation: GenerationSurface;
  /**
   * What it gives per concept, for the runtime table of docs/runtimes.md: a cell starting with native,
   * derived or ≈ (with a note where one helps); a concept left out is not available. A test
   * reads every adapter on its captured output and checks the cells against what it found.
   */
  readonly coverage: Readonly<Partial<Record<Concept, string>>>;
  /** Whether what answers here is this runtime, judged by what its endpoints answer. */
  identify(api: RuntimeApi): Promise<boolean>;
  facts(api: RuntimeApi): Promise<Facts>;
  /** One read; throws a CollectorError when the runtime does not answer as it should. */
  read(api: RuntimeApi, facts: Facts, target: string): Promise<Reading>;
  /** Its prompt-token counter leaves out tokens served from its prompt cache. */
  readonly countsEvaluatedPromptTokens?: boolean;
  /** How busy it is with real work, for the probe's do-no-harm check; default: loadOf. */
  liveLoad?(reading: Reading, facts: Facts): RuntimeLoad;
}

export function promptTokensCountedBy(adapter: RuntimeAdapter): PromptTokensCounted {
  return adapter.countsEvaluatedPromptTokens ? 'evaluated' : 'all';
}

/**
 * An object whose every field is optional and forgiving: a field that is missing, null or of
 * another type than expected reads as undefined. Runtimes add fields, leave them null by
 * default (SGLang's max_running_requests) and change their types across versions; one such
 * field never discards the rest of an answer.
 */
export function lenientObject<S extends Record<string, z.ZodType>>(shape: S) {
  const fields = Object.fromEntries(
    Object.entries(shape).map(([name, schema]) => [name, schema.optional().catch(undefined)]),
  ) as { [K in keyof S]: z.ZodCatch<z.ZodOptional<S[K]>> };
  return z.looseObject(fields);
}

/** A list whose entries that do not fit are left out, not the whole list. */
export function lenientList<T extends z.ZodType>(item: T) {
  return z
    .array(z.unknown())
    .catch([])
    .transform((items) =>
      items.flatMap((entry) => {
        const parsed = item.safeParse(entry);
        return parsed.success ? [parsed.data as z.output<T>] : [];
      }),
    );
}

/** A JSON endpoint's answer checked against a schema; undefined when it is absent or not that. */
export async function getJson<T extends z.ZodType>(
  api: RuntimeApi,
  path: string,
  schema: T,
): Promise<z.output<T> | undefined> {
  const response = await api.get(path).catch(() => undefined);
  if (!response || response.status !== 200) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(response.body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Same, but a failure to connect or a 5xx throws: for the endpoint a read depends on. */
export async function requireJson<T extends z.ZodType>(
  api: RuntimeApi,
  path: string,
  schema: T,
): Promise<z.output<T>> {
  const response = await api.get(path);
  if (response.status !== 200) throw httpStatusError(path, response.status);
  let raw: unknown;
  try {
    raw = JSON.parse(response.body);
  } catch {
    throw new CollectorError('garbage', `${path} did not answer JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new CollectorError('garbage', `${path} answered JSON of an unexpected shape`);
  return parsed.data;
}

export type MetricsAnswer =
  | { readonly ok: true; readonly exposition: ParsedExposition }
  | { readonly ok: false; readonly status: number; readonly body: string };

/**
 * A metrics endpoint: parsed when it answers 200, the status when it says it has none (404,
 * 501: switched off). Any other status, or text that is not the exposition format, throws.
 */
export async function getMetrics(api: RuntimeApi, path: string): Promise<MetricsAnswer> {
  const response = await api.get(path);
  if (response.status === 200) {
    const exposition = parseExposition(response.body);
    if (exposition.families.size === 0 && exposition.badLines > 0) {
      throw new CollectorError(
        'garbage',
        `${path} is not in the Prometheus text format (${exposition.firstProblem ?? 'no metric found'})`,
      );
    }
    return { ok: true, exposition };
  }
  // 404 and 501 are how runtimes say the endpoint is switched off; anything else is a failure
  // (401 and 403: the API key is wrong).
  if (response.status !== 404 && response.status !== 501)
    throw httpStatusError(path, response.status);
  return { ok: false, status: response.status, body: response.body.slice(0, 200) };
}

export function httpStatusError(path: string, status: number): CollectorError {
  return new CollectorError(`http_${status}`, `${path} answered HTTP ${status}`);
}

/** Whether a metrics endpoint answers 200 with text that mentions `marker`. */
export async function metricsMention(
  api: RuntimeApi,
  path: string,
  marker: RegExp,
): Promise<boolean> {
  const response = await api.get(path).catch(() => undefined);
  return response?.status === 200 && marker.test(response.body);
}
