import * as M from '../../alerts/src/metrics.js';
import type { AlertDef } from '../../alerts/src/rule.js';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  HeatmapCellLayout,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type DataTransformerConfig,
  type DynamicConfigValue,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import {
  FilterValueRangeBuilder,
  HeatmapColorMode,
  HeatmapColorOptionsBuilder,
  HeatmapColorScale,
  PanelBuilder as HeatmapPanel,
  RowsHeatmapOptionsBuilder,
  YAxisConfigBuilder,
} from '@grafana/grafana-foundation-sdk/heatmap';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

/**
 * Events a counter counted in the dashboard's time range, its series born in the range
 * included: a counter whose labels come from the events themselves (an Xid code, a process
 * name) first appears at 1, and increase() cannot see a series' first sample.
 */
export function eventsInRange(selector: string): string {
  return `(${selector} unless ${selector} offset $__range or increase(${selector}[$__range]))`;
}

/** Every query goes to the datasource the viewer picks. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** What the dashboards need to know from alerts/settings.yaml. */
export interface DashboardSettings {
  /** Where a panel links an alert's runbook (alerts/src/runbook-links.ts). */
  readonly runbookUrl: (alert: AlertDef) => string;
  readonly ttftSeconds: number;
}

export const UIDS = {
  fleet: 'inferwatch-fleet',
  node: 'inferwatch-node',
  runtime: 'inferwatch-runtime',
  probe: 'inferwatch-probe',
  cost: 'inferwatch-cost',
} as const;

export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['inferwatch', 'generated'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .withVariable(
      new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    )
    .link(
      new DashboardLinkBuilder('inferwatch')
        .type(DashboardLinkType.Dashboards)
        .tags(['inferwatch'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}

/** A label's values as a variable, narrowed by the variables before it. */
export function labelVariable(
  name: string,
  label: string,
  query: string,
  options: { multi?: boolean; includeAll?: boolean } = {},
): QueryVariableBuilder {
  const variable = new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
  if (options.multi) variable.multi(true);
  if (options.includeAll) variable.includeAll(true).allValue('.*');
  return variable;
}

/** The node (agent instance) picker, over the instances that report `metric`. */
export function nodeVariable(metric: string, options = { multi: true }): QueryVariableBuilder {
  return labelVariable(
    'instance',
    'Node',
    `label_values(${metric}, instance)`,
    options.multi ? { multi: true, includeAll: true } : {},
  );
}

/** Firing alerts, and runtime, model, driver and kernel changes: on every graph, so an upgrade shows. */
export function standardAnnotations(builder: DashboardBuilder, filter: string): DashboardBuilder {
  return builder
    .annotation(
      new AnnotationQueryBuilder()
        .name('Firing alerts')
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor('red')
        .expr(`ALERTS{alertstate="firing", alertname=~"LLMNode.*"${filter ? `, ${filter}` : ''}}`)
        .titleFormat('{{alertname}}')
        .textFormat('{{severity}} {{instance}} {{model}}')
        .step('60s'),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Runtime or model changed')
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor('blue')
        .expr(
          newSeries(
            M.llm.RUNTIME_INFO.name,
            'instance, target, runtime, runtime_version, model',
            filter,
          ),
        )
        .titleFormat('{{target}}: {{runtime}} {{runtime_version}} serving {{model}}')
        .textFormat('runtime or model changed on {{instance}} (or its agent started)')
        .step('60s'),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('GPU driver changed')
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor('purple')
        .expr(newSeries(M.gpu.GPU_INFO.name, 'instance, driver_version', filter))
        .titleFormat('driver {{driver_version}}')
        .textFormat('GPU driver on {{instance}}')
        .step('60s'),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Kernel or OS changed')
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor('orange')
        .expr(newSeries(M.host.HOST_INFO.name, 'instance, os, os_version, kernel', filter))
        .titleFormat('kernel {{kernel}}')
        .textFormat('{{os}} {{os_version}} on {{instance}} (or its agent started)')
        .step('60s'),
    );
}

/** Label sets present now and absent five minutes ago: a version or model that just appeared. */
export function newSeries(metric: string, labels: string, filter: string): string {
  const selector = `${metric}${filter ? `{${filter}}` : ''}`;
  return `group by (${labels}) (${selector}) unless group by (${labels}) (${selector} offset 5m)`;
}

export function query(expr: string, legend = '', refId?: string): DataqueryBuilder {
  const q = new DataqueryBuilder().expr(expr).legendFormat(legend || '__auto');
  return refId ? q.refId(refId) : q;
}

/** A query Grafana evaluates once, at the end of the range: a stat over a long window. */
export function instantQuery(expr: string, legend = ''): DataqueryBuilder {
  return query(expr, legend).instant();
}

/** An instant query whose result is a table row per series. */
export function tableQuery(expr: string, refId: string): DataqueryBuilder {
  return new DataqueryBuilder()
    .expr(expr)
    .format('table' as never)
    .instant()
    .refId(refId);
}

/**
 * What an area's panel is built from, given by the dashboard that places it: the label matchers
 * its pickers narrow to, by name (`K`: the ones the panel needs), the settings, and an alert's
 * runbook link, by reference.
 */
export interface PanelContext<K extends string = never> {
  readonly settings: DashboardSettings;
  readonly sel: Readonly<Record<K, string>>;
  link(alert: AlertDef): cog.Builder<never>;
}

export function panelContext<K extends string>(
  settings: DashboardSettings,
  sel: Readonly<Record<K, string>>,
): PanelContext<K> {
  return { settings, sel, link: (alert) => runbookLink(settings, alert) };
}

/** A panel's link to an alert's runbook: the alert by reference, so a renamed alert breaks the build. */
export function runbookLink(settings: DashboardSettings, alert: AlertDef): cog.Builder<never> {
  return new DashboardLinkBuilder(`Runbook: ${alert.name}`)
    .type(DashboardLinkType.Link)
    .url(settings.runbookUrl(alert))
    .targetBlank(true) as never;
}

export function thresholds(steps: readonly [number | null, string][]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps(steps.map(([value, color]) => ({ value, color })));
}

/** 1 shown as the first word in green, 0 as the second in red. */
export function okMapping(ok: string, bad: string): ValueMapping[] {
  return [
    {
      type: MappingType.ValueToText,
      options: { '1': { text: ok, color: 'green' }, '0': { text: bad, color: 'red' } },
    },
  ];
}

/** A warning flag: 1 shown as `on` in orange, 0 as `off` in green. */
export function flagMapping(on: string, off: string): ValueMapping[] {
  return [
    {
      type: MappingType.ValueToText,
      options: { '1': { text: on, color: 'orange' }, '0': { text: off, color: 'green' } },
    },
  ];
}

interface PanelOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly DataqueryBuilder[];
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  readonly thresholds?: ThresholdsConfigBuilder;
  readonly links?: readonly cog.Builder<never>[];
  readonly mappings?: ValueMapping[];
  /** What an empty panel says (a concept some runtimes have no figure for). */
  readonly noValue?: string;
}

function common<
  T extends {
    title(t: string): T;
    description(d: string): T;
    unit(u: string): T;
    datasource(d: { type: string; uid: string }): T;
    withTarget(t: DataqueryBuilder): T;
    span(w: number): T;
    height(h: number): T;
    min(v: number): T;
    max(v: number): T;
    thresholds(t: ThresholdsConfigBuilder): T;
    links(l: cog.Builder<never>[]): T;
    mappings(m: ValueMapping[]): T;
    noValue(n: string): T;
  },
>(panel: T, o: PanelOptions): T {
  let p = panel
    .title(o.title)
    .description(o.description)
    .unit(o.unit)
    .datasource(DATASOURCE)
    .span(o.width ?? 12)
    .height(o.height ?? 8);
  for (const q of o.queries) p = p.withTarget(q);
  if (o.min !== undefined) p = p.min(o.min);
  if (o.max !== undefined) p = p.max(o.max);
  if (o.noValue !== undefined) p = p.noValue(o.noValue);
  if (o.thresholds) p = p.thresholds(o.thresholds);
  if (o.links) p = p.links([...o.links]);
  if (o.mappings) p = p.mappings(o.mappings);
  return p;
}

export function timeseries(o: PanelOptions & { stack?: boolean }): TimeseriesPanel {
  const panel = common(new TimeseriesPanel(), o)
    .fillOpacity(o.stack ? 30 : 8)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom),
    )
    .tooltip(
      new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending),
    );
  return o.stack ? panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal)) : panel;
}

/** States over time, one band per series: what a P-state or a clock-event flag was, and when. */
export function stateTimeline(o: PanelOptions): StateTimelinePanel {
  return common(new StateTimelinePanel(), o)
    .showValue(VisibilityMode.Auto)
    .mergeValues(true)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom),
    );
}

/**
 * A distribution over time from a histogram's buckets (queried with heatmapQuery): one row per
 * bucket, coloured by how many observations fell in it. `unit` is the buckets' (the y axis).
 */
export function heatmap(o: PanelOptions): HeatmapPanel {
  return (
    common(new HeatmapPanel(), { ...o, unit: 'short' })
      .calculate(false)
      .yAxis(new YAxisConfigBuilder().unit(o.unit))
      .rowsFrame(new RowsHeatmapOptionsBuilder().layout(HeatmapCellLayout.Le))
      .color(
        new HeatmapColorOptionsBuilder()
          .mode(HeatmapColorMode.Scheme)
          .scheme('Oranges')
          .scale(HeatmapColorScale.Exponential)
          .exponent(0.5)
          .steps(64),
      )
      // Empty buckets stay blank rather than the colour of zero.
      .filterValues(new FilterValueRangeBuilder().le(1e-9))
      .cellGap(1)
  );
}

/** A histogram's buckets, one series per `le`, as Grafana's heatmap reads them. */
export function heatmapQuery(expr: string): DataqueryBuilder {
  return new DataqueryBuilder()
    .expr(expr)
    .format('heatmap' as never)
    .legendFormat('{{le}}');
}

export function stat(o: PanelOptions): StatPanel {
  return common(new StatPanel(), { height: 5, width: 6, ...o }).reduceOptions(
    new ReduceDataOptionsBuilder().calcs(['lastNotNull']),
  );
}

export function table(
  o: PanelOptions & {
    readonly transformations?: readonly DataTransformerConfig[];
    readonly columns?: Readonly<Record<string, DynamicConfigValue[]>>;
  },
): TablePanel {
  let panel = common(new TablePanel(), { width: 24, height: 10, ...o });
  for (const t of o.transformations ?? []) panel = panel.withTransformation(t);
  for (const [name, properties] of Object.entries(o.columns ?? {}))
    panel = panel.overrideByName(name, properties);
  return panel;
}

/**
 * A table's columns for people: no Time column (an instant query's evaluation time), and each
 * query's value named (`Value` where the table has one query, `Value #<refId>` where several
 * are merged) or, in `hide`, left out.
 */
export function tableColumns(
  values: Readonly<Record<string, string>>,
  hide: readonly string[] = [],
): DataTransformerConfig {
  return {
    id: 'organize',
    options: {
      excludeByName: Object.fromEntries(['Time', ...hide].map((c) => [c, true])),
      renameByName: values,
    },
  };
}

/** Joins instant table queries into one row per `by`, keeping only the named columns. */
export function joinRows(
  by: string,
  columns: Readonly<Record<string, string>>,
  hide: readonly string[] = [],
): DataTransformerConfig[] {
  return [
    { id: 'joinByField', options: { byField: by, mode: 'outer' } },
    {
      id: 'organize',
      options: {
        excludeByName: Object.fromEntries(hide.map((c) => [c, true])),
        includeByName: Object.fromEntries([by, ...Object.keys(columns)].map((c) => [c, true])),
        renameByName: columns,
      },
    },
  ];
}
