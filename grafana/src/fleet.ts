/**
 * Fleet: one row per kiosk so that a broken one stands out, plus the fleet's
 * totals and the history of lag and restarts per kiosk.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import {
  countStatPanel,
  DATASOURCE,
  DISK_CLEANUP_RATIO,
  DISK_EMERGENCY_RATIO,
  dashboardsLink,
  desktopStreamerDashboard,
  FLEET_SELECTOR,
  finishDashboard,
  GREEN,
  grafanaVar,
  JOB,
  kioskLinks,
  NOT_WATCHDOG,
  ORANGE,
  pipelineStateCodeExpr,
  pipelineStateMappings,
  RED,
  restartBarsPanel,
  SEGMENT_LAG_STEPS,
  segmentLagPanel,
  tableQuery,
  thresholds,
  upDownMappings,
  YELLOW,
} from './common.ts';
import { KIOSK_OVERVIEW_UID } from './kiosk-overview.ts';

export const FLEET_UID = 'desktop-streamer-fleet';

const F = FLEET_SELECTOR;
const INSTANCE_CELL = grafanaVar('__data.fields.instance');

/** `expr`, or 0 for every scraped kiosk where `expr` has no series (e.g. a counter never incremented). */
function orZeroPerKiosk(expr: string): string {
  return `(${expr})\nor on (kiosk, instance) (0 * max by (kiosk, instance) (up{${F}}))`;
}

/** The columns of the fleet table: one instant query each, merged on (kiosk, instance). */
const FLEET_COLUMNS = [
  {
    refId: 'A',
    name: 'Scrape',
    expr: `max by (kiosk, instance) (up{${F}})`,
  },
  {
    refId: 'B',
    name: 'State',
    expr: pipelineStateCodeExpr(F),
  },
  {
    refId: 'C',
    name: 'Stream',
    expr: `max by (kiosk, instance) (desktop_streamer_pipeline_up{${F}})`,
  },
  {
    refId: 'D',
    name: 'Segment lag',
    expr: `max by (kiosk, instance) (desktop_streamer_hls_segment_lag_seconds{${F}})`,
  },
  {
    refId: 'E',
    name: 'Restarts 24 h',
    expr: orZeroPerKiosk(
      `sum by (kiosk, instance) (increase(desktop_streamer_pipeline_restarts_total{${F}}[24h]))`,
    ),
  },
  {
    refId: 'F',
    name: 'Disk used',
    expr: `max by (kiosk, instance) (1 - desktop_streamer_host_filesystem_avail_bytes{${F}} / desktop_streamer_host_filesystem_size_bytes{${F}})`,
  },
  {
    refId: 'G',
    name: 'GPU VRAM',
    expr: `sum by (kiosk, instance) (desktop_streamer_drm_memory_vram_used_bytes{${F}})`,
  },
  {
    refId: 'H',
    name: 'GPU memory vs limit',
    expr: `sum by (kiosk, instance) (desktop_streamer_drm_memory_vram_used_bytes{${F}})\n/ max by (kiosk, instance) (desktop_streamer_config_gpu_memory_limit_bytes{${F}})`,
  },
  {
    refId: 'I',
    name: 'Firing alerts',
    expr: orZeroPerKiosk(
      `count by (kiosk, instance) (ALERTS{alertstate="firing", ${NOT_WATCHDOG}, kiosk=~"$kiosk"})`,
    ),
  },
] as const;

type Override = { matcher: dashboard.MatcherConfig; properties: dashboard.DynamicConfigValue[] };

function column(name: string, properties: dashboard.DynamicConfigValue[]): Override {
  return { matcher: { id: 'byName', options: name }, properties };
}

const colouredCell = { id: 'custom.cellOptions', value: { type: 'color-background' } };

function thresholdValue(base: string, ...steps: [number, string][]): dashboard.DynamicConfigValue {
  return { id: 'thresholds', value: thresholds(base, ...steps).build() };
}

function fleetTable(): table.PanelBuilder {
  const panel = new table.PanelBuilder()
    .title('Kiosks')
    .description(
      'One row per kiosk, broken ones first: scrape up/down, supervisor state, stream up/down, segment lag, restarts in the last 24 h, disk use of the segments filesystem, GPU VRAM used and its share of gpu_memory_limit_mb, firing alerts. Click a kiosk name for its overview, an instance for its player. Sort by any column.',
    )
    .datasource(DATASOURCE)
    .span(24)
    .height(10)
    .filterable(true)
    .align(common.FieldTextAlignment.Auto)
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: {
        excludeByName: { Time: true },
        indexByName: Object.fromEntries([
          ['kiosk', 0],
          ['instance', 1],
          ...FLEET_COLUMNS.map((c, index) => [`Value #${c.refId}`, index + 2]),
        ]),
        renameByName: Object.fromEntries(FLEET_COLUMNS.map((c) => [`Value #${c.refId}`, c.name])),
      },
    })
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('State').desc(true)]);
  for (const c of FLEET_COLUMNS) panel.withTarget(tableQuery(c.expr, c.refId));

  const overrides: Override[] = [
    column('kiosk', [
      {
        id: 'links',
        value: [
          {
            title: 'Kiosk overview',
            url: `/d/${KIOSK_OVERVIEW_UID}?var-kiosk=${grafanaVar('__data.fields.kiosk')}&var-instance=${grafanaVar('__data.fields.instance')}&${grafanaVar('__url_time_range')}`,
          },
        ],
      },
    ]),
    column('instance', [
      {
        id: 'links',
        value: kioskLinks(INSTANCE_CELL),
      },
    ]),
    column('Scrape', [
      colouredCell,
      { id: 'mappings', value: upDownMappings() },
      { id: 'custom.width', value: 90 },
    ]),
    column('State', [
      colouredCell,
      { id: 'mappings', value: pipelineStateMappings() },
      thresholdValue(GREEN, [2, ORANGE], [5, RED]), // colours come from the mappings; these cover unmapped codes
      { id: 'custom.width', value: 110 },
    ]),
    column('Stream', [
      colouredCell,
      { id: 'mappings', value: upDownMappings() },
      { id: 'custom.width', value: 90 },
    ]),
    column('Segment lag', [
      colouredCell,
      { id: 'unit', value: 's' },
      { id: 'decimals', value: 1 },
      thresholdValue(...SEGMENT_LAG_STEPS),
    ]),
    column('Restarts 24 h', [
      colouredCell,
      { id: 'unit', value: 'none' },
      { id: 'decimals', value: 0 },
      thresholdValue(GREEN, [3, YELLOW], [10, RED]),
    ]),
    column('Disk used', [
      { id: 'custom.cellOptions', value: { type: 'gauge', mode: 'basic' } },
      { id: 'unit', value: 'percentunit' },
      { id: 'min', value: 0 },
      { id: 'max', value: 1 },
      thresholdValue(GREEN, [DISK_CLEANUP_RATIO, YELLOW], [DISK_EMERGENCY_RATIO, RED]),
    ]),
    column('GPU VRAM', [{ id: 'unit', value: 'bytes' }]),
    column('GPU memory vs limit', [
      { id: 'custom.cellOptions', value: { type: 'gauge', mode: 'basic' } },
      { id: 'unit', value: 'percentunit' },
      { id: 'min', value: 0 },
      { id: 'max', value: 1.2 },
      thresholdValue(GREEN, [0.8, YELLOW], [1, RED]),
    ]),
    column('Firing alerts', [colouredCell, { id: 'decimals', value: 0 }, thresholdValue(GREEN, [1, RED])]),
  ];
  for (const o of overrides) panel.withOverride(o);
  return panel;
}

export function buildFleet(): dashboard.Dashboard {
  const board = desktopStreamerDashboard({
    title: 'Desktop streamer — fleet',
    uid: FLEET_UID,
    description:
      'All kiosks at a glance: which are streaming, which lag, restart, fill their disk or their GPU memory.',
    tag: 'fleet',
    from: 'now-24h',
    refresh: '1m',
  }).link(dashboardsLink());

  board.withPanel(
    countStatPanel(
      {
        title: 'Kiosks streaming',
        description: 'Kiosks whose supervisor reports the streaming state.',
        span: 6,
      },
      `sum(desktop_streamer_pipeline_up{${F}}) or vector(0)`,
      'streaming',
    ),
  );
  board.withPanel(
    countStatPanel(
      {
        title: 'Kiosks not streaming',
        description:
          'Scraped kiosks whose stream is not up (starting, backoff, no_signal, failed or stopped). Should be 0.',
        span: 6,
      },
      `count(desktop_streamer_pipeline_up{${F}} == 0) or vector(0)`,
      'not streaming',
      1,
    ),
  );
  board.withPanel(
    countStatPanel(
      {
        title: 'Kiosks unreachable',
        description: `Targets of job ${JOB} that Prometheus cannot scrape: the host is off, the network is down or the supervisor is not running. Should be 0.`,
        span: 6,
      },
      `count(up{${F}} == 0) or vector(0)`,
      'unreachable',
      1,
    ),
  );
  board.withPanel(
    countStatPanel(
      {
        title: 'Firing alerts',
        description:
          'Alerts currently firing for the selected kiosks. Should be 0; the kiosk table shows which kiosk.',
        span: 6,
      },
      `count(ALERTS{alertstate="firing", ${NOT_WATCHDOG}, kiosk=~"$kiosk"}) or vector(0)`,
      'firing',
      1,
    ),
  );
  board.withPanel(fleetTable());
  board.withPanel(
    segmentLagPanel(
      {
        title: 'Segment lag per kiosk',
        description:
          'Segment lag of every kiosk over time (age of the newest segment minus the segment duration). A line climbing away from zero is a stalled stream; dashed lines at 4 s (warning) and 6 s (stall).',
        span: 12,
      },
      F,
    ),
  );
  board.withPanel(
    restartBarsPanel(
      {
        title: 'Restarts per kiosk',
        description:
          'Pipeline restarts per interval and kiosk, all reasons together. The kiosk overview breaks them down by reason.',
        span: 12,
      },
      F,
      'kiosk',
    ),
  );
  return finishDashboard(board.build());
}
