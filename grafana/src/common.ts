/**
 * Building blocks shared by the dashboards: the provisioned datasource, the
 * label selector every query carries, and small factories for the panel
 * kinds we use so that units, colours and descriptions stay consistent.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Must equal the uid in grafana/provisioning/datasources/prometheus.yml. */
export const DATASOURCE_UID = 'prometheus';
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: DATASOURCE_UID };
/** The scrape job of the supervisors (prometheus/prometheus.yml). */
export const JOB = 'desktop-streamer';

/** Label matchers of one kiosk selection: job + the `kiosk` and `instance` template variables. */
export const SELECTOR = `job="${JOB}", kiosk=~"$kiosk", instance=~"$instance"`;
/** Label matchers of the fleet dashboard (no instance variable there). */
export const FLEET_SELECTOR = `job="${JOB}", kiosk=~"$kiosk"`;
/** Firing-alert panels leave out the dead man's switch, which always fires by design. */
export const NOT_WATCHDOG = 'alertname!="DesktopStreamerWatchdog"';

/**
 * unity_optimization defaults (src/config/schema.ts). Panels draw each kiosk's own quota and
 * limit from desktop_streamer_config_cpu_quota_ratio / _memory_limit_bytes; these only set the
 * colour thresholds and the "by default" in descriptions.
 */
export const CPU_QUOTA_RATIO = 0.3;
export const MEMORY_LIMIT_BYTES = 800 * 1024 * 1024;
/** live_streaming.cleanup_threshold_percent / emergency_cleanup_threshold_percent defaults. */
export const DISK_CLEANUP_RATIO = 0.7;
export const DISK_EMERGENCY_RATIO = 0.85;

export const GREEN = 'green';
export const YELLOW = 'yellow';
export const ORANGE = 'orange';
export const RED = 'red';
export const BLUE = 'blue';
export const GREY = 'text';

/**
 * Supervisor states (desktop_streamer_pipeline_state{state}) with a code that grows with how
 * badly the kiosk needs attention, so sorting by it puts broken kiosks first.
 */
export const PIPELINE_STATES = [
  { state: 'streaming', code: 1, color: GREEN },
  { state: 'starting', code: 2, color: BLUE },
  { state: 'backoff', code: 3, color: ORANGE },
  { state: 'no_signal', code: 4, color: ORANGE },
  { state: 'stopped', code: 5, color: RED },
  { state: 'failed', code: 6, color: RED },
] as const;
/** Code of a scraped target without any state series (supervisor unreachable, or too old to export it). */
export const UNREACHABLE_STATE_CODE = 7;

/**
 * One number per kiosk for the active supervisor state (see PIPELINE_STATES), so a stat or
 * table cell can map it to a word and a colour; UNREACHABLE_STATE_CODE for a target that is
 * scraped (`up` exists) but has no state series, e.g. after the supervisor went away.
 */
export function pipelineStateCodeExpr(selector: string): string {
  const terms = PIPELINE_STATES.map(
    ({ state, code }) => `desktop_streamer_pipeline_state{${selector}, state="${state}"} * ${code}`,
  );
  return [
    `max by (kiosk, instance) (\n  ${terms.join('\n  or ')}\n)`,
    `or on (kiosk, instance) (0 * max by (kiosk, instance) (up{${selector}}) + ${UNREACHABLE_STATE_CODE})`,
  ].join('\n');
}

export function pipelineStateMappings(): dashboard.ValueMapping[] {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  PIPELINE_STATES.forEach(({ state, code, color }, index) => {
    options[String(code)] = { text: state, color, index };
  });
  options[String(UNREACHABLE_STATE_CODE)] = {
    text: 'unreachable',
    color: RED,
    index: PIPELINE_STATES.length,
  };
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

export function upDownMappings(upText = 'up', downText = 'down'): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: {
        '1': { text: upText, color: GREEN, index: 0 },
        '0': { text: downText, color: RED, index: 1 },
      },
    },
  ];
}

export function thresholds(base: string, ...steps: [number, string][]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: base }, ...steps.map(([value, color]) => ({ value, color }))]);
}

export function query(expr: string, legendFormat = '__auto', refId = 'A'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(expr)
    .legendFormat(legendFormat)
    .refId(refId)
    .range();
}

/** An instant query in table format (one row per series). */
export function tableQuery(expr: string, refId: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(expr)
    .refId(refId)
    .instant()
    .format(prometheus.PromQueryFormat.Table);
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  span: number;
  height?: number;
}

export function statPanel(spec: PanelSpec): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.span)
    .height(spec.height ?? 4)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Background)
    .textMode(common.BigValueTextMode.Auto)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

export function timeseriesPanel(spec: PanelSpec): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.span)
    .height(spec.height ?? 8)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .calcs([]),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
}

/** Draw the thresholds of a time series panel as dashed lines (limits, quotas, stall timeouts). */
export function dashedThresholds(): common.GraphThresholdsStyleConfigBuilder {
  return new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed);
}

/** Series whose legend ends in "configured"/"limit" are references: dashed and not filled. */
export function referenceSeriesOverride(): {
  matcher: dashboard.MatcherConfig;
  properties: dashboard.DynamicConfigValue[];
} {
  return {
    matcher: { id: 'byRegexp', options: '.*(configured|limit|expected)$' },
    properties: [
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
    ],
  };
}

/**
 * Last touches on a built dashboard: every panel (and row) gets a unique id in document
 * order (Grafana addresses panels by id; the SDK leaves them unset), data links keep only
 * the fields of a data link, and dashboard links go to the top bar, not the controls menu.
 */
export function finishDashboard(board: dashboard.Dashboard): dashboard.Dashboard {
  let next = 1;
  const panels = (board.panels ?? []).flatMap((panel) => [
    panel,
    ...('panels' in panel && Array.isArray(panel.panels) ? panel.panels : []),
  ]);
  for (const panel of panels) {
    panel.id = next++;
    const defaults = 'fieldConfig' in panel ? panel.fieldConfig?.defaults : undefined;
    if (defaults?.links) defaults.links = defaults.links.map(toDataLink) as typeof defaults.links;
  }
  for (const link of board.links ?? []) delete link.placement;
  return board;
}

function toDataLink(link: { title: string; url?: string; targetBlank?: boolean }) {
  return { title: link.title, url: link.url ?? '', targetBlank: link.targetBlank ?? false };
}

/** Link in the top bar to every desktop-streamer dashboard (fleet <-> kiosk overview), keeping the time range. */
export function dashboardsLink(): dashboard.DashboardLinkBuilder {
  return new dashboard.DashboardLinkBuilder('Desktop streamer')
    .type(dashboard.DashboardLinkType.Dashboards)
    .tags(['desktop-streamer'])
    .asDropdown(true)
    .includeVars(false)
    .keepTime(true);
}

/** The `kiosk` template variable (file-SD target label), multi-select with "All". */
export function kioskVariable(): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder('kiosk')
    .label('Kiosk')
    .description('Kiosk name, the `kiosk` target label set by file service discovery.')
    .datasource(DATASOURCE)
    .query({
      qryType: 1,
      query: `label_values(up{job="${JOB}"}, kiosk)`,
      refId: 'PrometheusVariableQueryEditor-VariableQuery',
    })
    .definition(`label_values(up{job="${JOB}"}, kiosk)`)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

/** The `instance` (host:port) template variable, narrowed by the selected kiosks. */
export function instanceVariable(): dashboard.QueryVariableBuilder {
  const expr = `label_values(up{job="${JOB}", kiosk=~"$kiosk"}, instance)`;
  return new dashboard.QueryVariableBuilder('instance')
    .label('Instance')
    .description('Supervisor address (host:port) of the selected kiosks.')
    .datasource(DATASOURCE)
    .query({ qryType: 1, query: expr, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(expr)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

/** Grafana's `${…}` interpolation, e.g. grafanaVar('__field.labels.instance'); spelled so it is not a JS placeholder. */
export function grafanaVar(expression: string): string {
  return `\${${expression}}`;
}

/** The links of one kiosk's supervisor, `instanceRef` being a Grafana expression for host:port. */
export function kioskLinks(instanceRef: string): { title: string; url: string; targetBlank: boolean }[] {
  return [
    { title: 'Open player', url: `http://${instanceRef}/player`, targetBlank: true },
    { title: 'Snapshot (JPEG)', url: `http://${instanceRef}/api/snapshot.jpg`, targetBlank: true },
    { title: 'Detailed health (JSON)', url: `http://${instanceRef}/api/health/detailed`, targetBlank: true },
  ];
}

/** kioskLinks as panel data links (a stat value's click menu). */
export function kioskDataLinks(instanceRef: string): dashboard.DashboardLinkBuilder[] {
  return kioskLinks(instanceRef).map(({ title, url }) =>
    new dashboard.DashboardLinkBuilder(title).url(url).targetBlank(true),
  );
}

/** A dashboard of this project: tagged, crosshair, browser time zone, the kiosk variable and the dashboards link. */
export function desktopStreamerDashboard(spec: {
  title: string;
  uid: string;
  description: string;
  tag: string;
  from: string;
  refresh: string;
}): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['desktop-streamer', spec.tag])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .timezone('browser')
    .time({ from: spec.from, to: 'now' })
    .refresh(spec.refresh)
    .withVariable(kioskVariable());
}

/** A whole-number stat (how many kiosks, alerts…): green, red from `redFrom` on when given. */
export function countStatPanel(
  spec: Omit<PanelSpec, 'unit'>,
  expr: string,
  legend: string,
  redFrom?: number,
): stat.PanelBuilder {
  return statPanel({ ...spec, unit: 'none' })
    .withTarget(query(expr, legend))
    .thresholds(redFrom === undefined ? thresholds(GREEN) : thresholds(GREEN, [redFrom, RED]))
    .decimals(0);
}

/** Colour steps drawn as dashed lines on a time series that starts at 0 (and ends at `max` when given). */
export function withDashedThresholds(
  panel: timeseries.PanelBuilder,
  steps: Parameters<typeof thresholds>,
  max?: number,
): timeseries.PanelBuilder {
  panel
    .thresholds(thresholds(...steps))
    .thresholdsStyle(dashedThresholds())
    .min(0);
  return max === undefined ? panel : panel.max(max);
}

/** A measured series and its reference (configured, expected): the reference dashed and unfilled. */
export function withReference(
  panel: timeseries.PanelBuilder,
  measured: [expr: string, legend: string],
  reference: [expr: string, legend: string],
): timeseries.PanelBuilder {
  return panel
    .withTarget(query(...measured))
    .withTarget(query(reference[0], reference[1], 'B'))
    .withOverride(referenceSeriesOverride());
}

/**
 * Usage stacked per process with the unit's limit as a red dashed line (legend ending in
 * "quota" or "limit", refId C), the way systemd's CPUQuota/MemoryMax limit the whole cgroup.
 */
export function stackedAgainstLimit(
  panel: timeseries.PanelBuilder,
  limit: [expr: string, legend: string],
  steps: Parameters<typeof thresholds>,
): timeseries.PanelBuilder {
  return panel
    .withTarget(query(limit[0], limit[1], 'C'))
    .overrideByRegexp('.*(quota|limit)$', [
      { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
      { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
    ])
    .thresholds(thresholds(...steps))
    .thresholdsStyle(dashedThresholds())
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .fillOpacity(30)
    .min(0);
}

/** Segment lag colours: warning at 4 s, stall (the default stall_timeout) at 6 s. */
export const SEGMENT_LAG_STEPS: Parameters<typeof thresholds> = [GREEN, [4, YELLOW], [6, RED]];

/** Segment lag over time, one line per kiosk, with the warning and stall lines dashed. */
export function segmentLagPanel(spec: Omit<PanelSpec, 'unit'>, selector: string): timeseries.PanelBuilder {
  return withDashedThresholds(
    timeseriesPanel({ ...spec, unit: 's' }).withTarget(
      query(`desktop_streamer_hls_segment_lag_seconds{${selector}}`, '{{kiosk}}'),
    ),
    SEGMENT_LAG_STEPS,
  );
}

/** Pipeline restarts per interval as bars, summed by `by`. */
export function restartBarsPanel(
  spec: Omit<PanelSpec, 'unit'>,
  selector: string,
  by: string,
): timeseries.PanelBuilder {
  return timeseriesPanel({ ...spec, unit: 'none' })
    .withTarget(
      query(
        `sum by (${by}) (increase(desktop_streamer_pipeline_restarts_total{${selector}}[$__rate_interval]))`,
        `{{${by.split(', ').join('}} {{')}}}`,
      ),
    )
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .decimals(0);
}
