import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Labels, MetricDef, Sample } from './metric.js';

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

interface Family {
  readonly def: MetricDef;
  readonly labelNames: ReadonlySet<string>;
  /** A histogram's `le` values, +Inf last. */
  readonly les: readonly string[];
  series: Map<string, Sample>;
  /** The samples as last handed over, to see at a glance that nothing changed. */
  published: readonly Sample[];
  /** Its text, UTF-8, as last rendered; undefined once a sample changed, until the next render. */
  bytes: Buffer | undefined;
}

const BLANK_LINE = Buffer.from('\n\n');
const NEWLINE = Buffer.from('\n');

/**
 * The agent's families in the Prometheus text format. Collectors hand over fresh samples each
 * scrape; a series missing from them is removed at once, so a GPU, a path or a process that
 * went away stops being exported (the Prometheus guide's point about label values that
 * disappear).
 *
 * Each family's text is kept, and made again only when one of its samples changed: most of
 * an exposition (Xid counters at 0, GPU identities, histograms between requests) is the same
 * from one scrape to the next, so a scrape costs about the writing of what changed. This is
 * why prom-client no longer renders these families (it rebuilds every line of every family on
 * every scrape: docs/performance.md has the figures); it still renders the agent's own
 * process_* and nodejs_* metrics, which change every time.
 */
export class Exposition {
  private readonly defaults: Registry | undefined;
  private readonly families = new Map<MetricDef, Family>();
  private readonly names = new Set<string>();

  constructor(options: { processMetrics: boolean }) {
    if (options.processMetrics) {
      this.defaults = new Registry();
      // The event-loop-lag monitor samples at this period: prom-client's 10 ms default costs
      // more CPU than all of the agent's own work (0.44 s a minute, measured).
      collectDefaultMetrics({ register: this.defaults, eventLoopMonitoringPrecision: 100 });
      // Gauges named like counters: `promtool check metrics` rejects them; the per-type
      // nodejs_active_handles and nodejs_active_requests carry the same figures.
      for (const name of LINT_FAILING_DEFAULTS) this.defaults.removeSingleMetric(name);
    }
  }

  define(def: MetricDef): void {
    if (this.families.has(def)) return;
    if (this.names.has(def.name)) throw new Error(`${def.name} is defined twice`);
    this.names.add(def.name);
    this.families.set(def, {
      def,
      labelNames: new Set(def.labelNames),
      les: [...(def.buckets ?? []).map(String), '+Inf'],
      series: new Map(),
      published: [],
      bytes: undefined,
    });
  }

  /** Replaces every series of the given families with `samples` (missing families: no series). */
  publish(defs: readonly MetricDef[], samples: ReadonlyMap<MetricDef, readonly Sample[]>): void {
    for (const def of defs) {
      const family = this.family(def);
      const next = samples.get(def) ?? [];
      // Most families come back as they were, in the same order: seen side by side, with no
      // key made and no map built.
      if (sameSamples(def, family.published, next)) {
        family.published = next;
        continue;
      }
      const series = new Map<string, Sample>();
      for (const sample of next) {
        checkLabels(family, sample.labels);
        series.set(seriesKey(def, sample), sample);
      }
      family.series = series;
      family.published = next;
      family.bytes = undefined;
    }
  }

  /** Adds `by` to a counter's series, between scrapes (errors as they happen). */
  count(def: MetricDef, labels: Labels, by = 1): void {
    const family = this.family(def);
    checkLabels(family, labels);
    const key = seriesKey(def, { labels, value: 0 });
    const before = family.series.get(key);
    family.series.set(key, {
      labels: before?.labels ?? { ...labels },
      value: (before?.value ?? 0) + by,
    });
    family.bytes = undefined;
  }

  get contentType(): string {
    return Registry.PROMETHEUS_CONTENT_TYPE;
  }

  /** The exposition, UTF-8, as /metrics serves it: families apart by a blank line. */
  async bytes(): Promise<Buffer> {
    const parts: Buffer[] = [];
    if (this.defaults) parts.push(Buffer.from((await this.defaults.metrics()).trimEnd()));
    for (const family of this.families.values()) {
      if (parts.length) parts.push(BLANK_LINE);
      parts.push((family.bytes ??= Buffer.from(textOf(family))));
    }
    parts.push(NEWLINE);
    return Buffer.concat(parts);
  }

  async render(): Promise<string> {
    return (await this.bytes()).toString();
  }

  private family(def: MetricDef): Family {
    const family = this.families.get(def);
    if (!family) throw new Error(`metric ${def.name} was never defined`);
    return family;
  }
}

/** One series' identity within its family: its label values in the family's order. */
export function seriesKey(def: MetricDef, sample: Sample): string {
  let key = '';
  for (const name of def.labelNames) key += `${sample.labels[name] ?? ''}\u0000`;
  return key;
}

function sameSamples(def: MetricDef, before: readonly Sample[], now: readonly Sample[]): boolean {
  if (before.length !== now.length) return false;
  for (let i = 0; i < now.length; i++) {
    const [a, b] = [before[i] as Sample, now[i] as Sample];
    if (!sameValue(a, b)) return false;
    if (a.labels === b.labels) continue;
    for (const name of def.labelNames) if (a.labels[name] !== b.labels[name]) return false;
  }
  return true;
}

function sameValue(a: Sample, b: Sample): boolean {
  if (!Object.is(a.value, b.value)) return false;
  const [x, y] = [a.histogram, b.histogram];
  if (x === y) return true;
  if (!x || !y || x.sum !== y.sum || x.count !== y.count || x.counts.length !== y.counts.length)
    return false;
  return x.counts.every((c, i) => c === y.counts[i]);
}

function checkLabels(family: Family, labels: Labels): void {
  for (const name of Object.keys(labels))
    if (!family.labelNames.has(name)) throw new Error(`${family.def.name} has no label ${name}`);
}

function textOf(family: Family): string {
  const { def, les } = family;
  const name = def.name;
  let text = `# HELP ${name} ${escape(def.help)}\n# TYPE ${name} ${def.type}`;
  for (const sample of family.series.values()) {
    const labels = labelText(def, sample.labels);
    const braced = labels ? `{${labels}}` : '';
    const h = sample.histogram;
    if (def.type !== 'histogram') {
      text += `\n${name}${braced} ${valueText(sample.value)}`;
    } else if (h) {
      const before = labels ? `${labels},` : '';
      for (let i = 0; i < les.length; i++)
        text += `\n${name}_bucket{${before}le="${les[i]}"} ${valueText(i < h.counts.length ? (h.counts[i] as number) : h.count)}`;
      text += `\n${name}_sum${braced} ${valueText(h.sum)}\n${name}_count${braced} ${valueText(h.count)}`;
    }
  }
  return text;
}

function labelText(def: MetricDef, labels: Labels): string {
  let text = '';
  for (const name of def.labelNames) {
    const value = labels[name];
    if (value === undefined) continue;
    text += `${text ? ',' : ''}${name}="${escape(value).replaceAll('"', '\\"')}"`;
  }
  return text;
}

function escape(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

function valueText(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}
