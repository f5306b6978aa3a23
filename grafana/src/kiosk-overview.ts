/**
 * Kiosk overview: everything about one kiosk (or a selection of them) on one
 * page — is it streaming, why did it restart, is the picture alive, does the
 * pipeline stay inside its quotas, is the host healthy, what is firing.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import {
  BLUE,
  CPU_QUOTA_RATIO,
  DATASOURCE,
  DISK_CLEANUP_RATIO,
  DISK_EMERGENCY_RATIO,
  dashboardsLink,
  desktopStreamerDashboard,
  finishDashboard,
  GREEN,
  grafanaVar,
  instanceVariable,
  kioskDataLinks,
  kioskLinks,
  MEMORY_LIMIT_BYTES,
  NOT_WATCHDOG,
  ORANGE,
  pipelineStateCodeExpr,
  pipelineStateMappings,
  query,
  RED,
  referenceSeriesOverride,
  restartBarsPanel,
  SEGMENT_LAG_STEPS,
  SELECTOR,
  segmentLagPanel,
  stackedAgainstLimit,
  statPanel,
  tableQuery,
  thresholds,
  timeseriesPanel,
  withDashedThresholds,
  withReference,
  YELLOW,
} from './common.ts';

export const KIOSK_OVERVIEW_UID = 'desktop-streamer-kiosk';

const S = SELECTOR;

function streamRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('Stream'));
  board.withPanel(
    statPanel({
      title: 'Pipeline state',
      description:
        'Supervisor state of each selected kiosk: streaming (green), starting (blue), backoff or no_signal (orange), stopped, failed or unreachable (red). Click a value for the player, a snapshot and the detailed health.',
      unit: 'none',
      span: 6,
    })
      .withTarget(query(pipelineStateCodeExpr(S), '{{kiosk}} {{instance}}'))
      .mappings(pipelineStateMappings())
      .thresholds(thresholds(RED))
      .graphMode(common.BigValueGraphMode.None)
      .textMode(common.BigValueTextMode.ValueAndName)
      .dataLinks(kioskDataLinks(grafanaVar('__field.labels.instance'))),
  );
  board.withPanel(
    statPanel({
      title: 'Pipeline uptime',
      description:
        'Time since the current gst-launch-1.0 process started. Short and repeatedly falling back to zero means the pipeline keeps restarting.',
      unit: 's',
      span: 6,
    })
      .withTarget(query(`desktop_streamer_pipeline_uptime_seconds{${S}}`, '{{kiosk}}'))
      .thresholds(thresholds(ORANGE, [60, YELLOW], [600, GREEN])),
  );
  board.withPanel(
    statPanel({
      title: 'Last segment age',
      description:
        'Seconds since the newest HLS segment was published. It should stay near the segment duration (2 s by default); above the stall timeout (6 s by default) players run dry and the supervisor restarts the pipeline.',
      unit: 's',
      span: 6,
    })
      // The timestamp is 0 before the first segment: show "no segment yet", not 56 years.
      .withTarget(
        query(`time() - (desktop_streamer_hls_last_segment_timestamp_seconds{${S}} > 0)`, '{{kiosk}}'),
      )
      .noValue('no segment yet')
      .decimals(1)
      .thresholds(thresholds(...SEGMENT_LAG_STEPS)),
  );
  board.withPanel(
    statPanel({
      title: 'Restarts (24 h)',
      description:
        'Pipeline restarts in the last 24 hours, all reasons together (see "Restarts by reason"). A few a day are normal self-healing; many mean a recurring fault.',
      unit: 'none',
      span: 6,
    })
      .withTarget(
        query(
          `sum by (kiosk, instance) (increase(desktop_streamer_pipeline_restarts_total{${S}}[24h]))`,
          '{{kiosk}}',
        ),
      )
      .decimals(0)
      .thresholds(thresholds(GREEN, [3, YELLOW], [10, RED])),
  );
  board.withPanel(
    new statetimeline.PanelBuilder()
      .title('State history')
      .description(
        'Supervisor state over time, one lane per kiosk: green while streaming, blue while starting, orange in backoff or without signal, red when stopped, failed or unreachable. Gaps in green are outages players saw.',
      )
      .datasource(DATASOURCE)
      .span(24)
      .height(4)
      .withTarget(query(pipelineStateCodeExpr(S), '{{kiosk}}'))
      .mappings(pipelineStateMappings())
      .thresholds(thresholds(RED))
      .mergeValues(true)
      .showValue(common.VisibilityMode.Auto)
      .rowHeight(0.8)
      .fillOpacity(80)
      .legend(new common.VizLegendOptionsBuilder().showLegend(false)),
  );
  board.withPanel(
    new table.PanelBuilder()
      .title('Kiosks and links')
      .description(
        'What each selected kiosk captures (monitor, geometry, encoder) and which build it runs, with links to its live player, a JPEG snapshot of the captured picture and its detailed health JSON.',
      )
      .datasource(DATASOURCE)
      .span(24)
      .height(5)
      .withTarget(
        tableQuery(
          `desktop_streamer_capture_info{${S}}\n* on (instance) group_left (version, gstreamer_version)\ndesktop_streamer_build_info{${S}}`,
          'A',
        ),
      )
      .withTransformation({
        id: 'organize',
        options: {
          excludeByName: { Time: true, Value: true, __name__: true, job: true, exported_kiosk: true },
          indexByName: {
            kiosk: 0,
            instance: 1,
            monitor: 2,
            output: 3,
            geometry: 4,
            encoder: 5,
            width: 6,
            height: 7,
            fps: 8,
            version: 9,
            gstreamer_version: 10,
          },
          renameByName: {},
        },
      })
      .overrideByName('instance', [{ id: 'links', value: kioskLinks(grafanaVar('__data.fields.instance')) }]),
  );
}

function faultsRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('Restarts and errors'));
  board.withPanel(
    restartBarsPanel(
      {
        title: 'Restarts by reason',
        description:
          'Pipeline restarts per interval by reason: exited (the child died), stalled (no new segment), error_burst (too many errors in error_window), capture_changed (monitor layout changed), encoder_demoted (fell back to a software encoder), manual (API).',
        span: 8,
      },
      S,
      'kiosk, reason',
    ),
  );
  board.withPanel(
    timeseriesPanel({
      title: 'Errors and warnings',
      description:
        'Errors reported on the pipeline bus per second, by type (display = X server, encoder, resource = files/devices, stream, process, other), and warnings. Error bursts above max_errors per error_window trigger a restart.',
      unit: 'ops',
      span: 8,
    })
      .withTarget(
        query(
          `sum by (kiosk, type) (rate(desktop_streamer_pipeline_errors_total{${S}}[$__rate_interval]))`,
          '{{kiosk}} {{type}}',
        ),
      )
      .withTarget(
        query(
          `rate(desktop_streamer_pipeline_warnings_total{${S}}[$__rate_interval])`,
          '{{kiosk}} warnings',
          'B',
        ),
      ),
  );
  board.withPanel(
    timeseriesPanel({
      title: 'Restart backoff',
      description:
        'Current delay before the next restart attempt. It grows exponentially up to restart_delay while restarts keep failing and resets once the pipeline streams again.',
      unit: 's',
      span: 8,
    }).withTarget(query(`desktop_streamer_pipeline_restart_backoff_seconds{${S}}`, '{{kiosk}}')),
  );
}

function segmentsRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('HLS segments'));
  board.withPanel(
    segmentLagPanel(
      {
        title: 'Segment lag',
        description:
          'Age of the newest segment minus the configured segment duration. Zero while segments arrive on time; it climbs in a straight line when the stream stalls. Dashed lines: warning at 4 s, stall at 6 s.',
        span: 8,
      },
      S,
    ),
  );
  board.withPanel(
    withReference(
      timeseriesPanel({
        title: 'Segment cadence',
        description:
          'Segments published per minute compared with what the configured segment duration implies (dashed). Fewer than expected means the encoder cannot keep up or the pipeline stalls.',
        unit: 'none',
        span: 8,
      }).axisLabel('segments / min'),
      [
        `60 * rate(desktop_streamer_hls_segments_written_total{${S}}[$__rate_interval])`,
        '{{kiosk}} published',
      ],
      [`60 / desktop_streamer_config_segment_duration_seconds{${S}}`, '{{kiosk}} expected'],
    ),
  );
  board.withPanel(
    withReference(
      timeseriesPanel({
        title: 'Segment duration',
        description:
          'Mean duration of the segments published in each interval compared with segment_duration (dashed). Segments much longer than configured mean keyframes are late; players then buffer longer.',
        unit: 's',
        span: 8,
      }),
      [
        `rate(desktop_streamer_hls_segment_duration_seconds_sum{${S}}[$__rate_interval])\n/ rate(desktop_streamer_hls_segment_duration_seconds_count{${S}}[$__rate_interval])`,
        '{{kiosk}} measured',
      ],
      [`desktop_streamer_config_segment_duration_seconds{${S}}`, '{{kiosk}} configured'],
    ),
  );
}

/** Colours of the WHEP session events, so a failing kiosk shows red bars at a glance. */
const SESSION_EVENT_COLOURS: [event: string, colour: string][] = [
  ['opened', BLUE],
  ['connected', GREEN],
  ['closed', 'purple'],
  ['rejected', ORANGE],
  ['failed', RED],
];

function viewersRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('Viewers and WebRTC'));
  board.withPanel(
    timeseriesPanel({
      title: 'Viewers by protocol',
      description:
        'Who is watching now. webrtc: connected WebRTC (WHEP) sessions, sub-second behind the monitor. hls: distinct clients (address + User-Agent) that fetched the HLS playlist in the last 10 s; viewers behind one proxy or NAT with the same browser count once.',
      unit: 'none',
      span: 12,
    })
      .withTarget(query(`desktop_streamer_viewers{${S}}`, '{{kiosk}} {{protocol}}'))
      .decimals(0)
      .min(0),
  );
  const sessions = timeseriesPanel({
    title: 'WebRTC sessions',
    description:
      'WHEP session events per minute: opened (offer answered), connected, closed (DELETE, the viewer closed its connection, shutdown), rejected (bad offer, or all webrtc.max_viewers places taken: 503), failed (not connected within 15 s — UDP port blocked, NAT without TURN — or the connection lost, which includes a tab closed without DELETE). Failed without connected is what the DesktopStreamerWebRtcSessionsFailing alert watches.',
    unit: 'none',
    span: 12,
  })
    .withTarget(
      query(
        `60 * sum by (kiosk, event) (rate(desktop_streamer_webrtc_sessions_total{${S}}[$__rate_interval]))`,
        '{{kiosk}} {{event}}',
      ),
    )
    .axisLabel('sessions / min')
    .min(0);
  for (const [event, colour] of SESSION_EVENT_COLOURS) {
    sessions.overrideByRegexp(`.* ${event}$`, [
      { id: 'color', value: { mode: 'fixed', fixedColor: colour } },
    ]);
  }
  board.withPanel(sessions);
  board.withPanel(
    withDashedThresholds(
      timeseriesPanel({
        title: 'WebRTC round-trip time',
        description:
          "Round-trip time to the connected WebRTC viewers, mean and worst, from their RTCP receiver reports of the supervisor's sender reports (one a second). A few ms on a wired LAN; Wi-Fi adds tens. Empty while no viewer has reported. Dashed: 100 ms and 300 ms, where lost packets take too long to resend for sub-second viewing.",
        unit: 's',
        span: 8,
      }).withTarget(query(`desktop_streamer_webrtc_rtt_seconds{${S}}`, '{{kiosk}} {{stat}}')),
      [GREEN, [0.1, YELLOW], [0.3, RED]],
    ),
  );
  board.withPanel(
    withDashedThresholds(
      timeseriesPanel({
        title: 'WebRTC packet loss',
        description:
          "Share of RTP packets lost on the way to the WebRTC viewers: mean and worst of each connected viewer's latest receiver report, and all viewers' reported losses over the packets sent (lost / sent). Sustained loss above a few percent shows as smearing and freezes until the next keyframe; look at the viewer's Wi-Fi.",
        unit: 'percentunit',
        span: 8,
      })
        .withTarget(query(`desktop_streamer_webrtc_loss_ratio{${S}}`, '{{kiosk}} {{stat}}'))
        .withTarget(
          query(
            `rate(desktop_streamer_webrtc_packets_lost_total{${S}}[$__rate_interval])\n/ rate(desktop_streamer_webrtc_sent_packets_total{${S}}[$__rate_interval])`,
            '{{kiosk}} lost / sent',
            'B',
          ),
        ),
      [GREEN, [0.01, YELLOW], [0.05, RED]],
    ),
  );
  board.withPanel(
    timeseriesPanel({
      title: 'WebRTC sent',
      description:
        'RTP sent to all WebRTC viewers together, in bit/s (each viewer gets its own copy of the one encode, so it grows with the viewers), and frames packetized per second (once, whatever the number of viewers: it follows the output frame rate while someone watches, 0 while nobody does).',
      unit: 'bps',
      span: 8,
    })
      .withTarget(
        query(`8 * rate(desktop_streamer_webrtc_sent_bytes_total{${S}}[$__rate_interval])`, '{{kiosk}} sent'),
      )
      .withTarget(
        query(
          `rate(desktop_streamer_webrtc_frames_sent_total{${S}}[$__rate_interval])`,
          '{{kiosk}} frames',
          'B',
        ),
      )
      .overrideByRegexp('.*frames$', [
        { id: 'unit', value: 'suffix: fps' },
        { id: 'custom.axisPlacement', value: 'right' },
      ])
      .min(0),
  );
}

function qualityRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('Output and picture'));
  board.withPanel(
    withReference(
      timeseriesPanel({
        title: 'Output bitrate',
        description:
          'Bitrate measured over the playlist window compared with the configured bitrate (dashed). Far below on a changing picture means the encoder starves; near zero on a static picture is normal for x264.',
        unit: 'bps',
        span: 6,
      }),
      // Exported in bytes/s (Prometheus base unit); shown in bit/s like the `bitrate` setting.
      [`8 * desktop_streamer_hls_output_bitrate_bytes_per_second{${S}}`, '{{kiosk}} measured'],
      [`8 * desktop_streamer_config_bitrate_bytes_per_second{${S}}`, '{{kiosk}} configured'],
    ).min(0),
  );
  board.withPanel(
    withReference(
      timeseriesPanel({
        title: 'Output frame rate',
        description:
          'Frames per second counted in the published MPEG-TS over the playlist window compared with the configured fps (dashed). A lower rate means frames are dropped in capture or encoding.',
        unit: 'suffix: fps',
        span: 6,
      }),
      [`desktop_streamer_hls_output_frames_per_second{${S}}`, '{{kiosk}} measured'],
      [`desktop_streamer_config_fps{${S}}`, '{{kiosk}} configured'],
    ).min(0),
  );
  board.withPanel(
    withDashedThresholds(
      timeseriesPanel({
        title: 'Picture unchanged for',
        description:
          'Seconds since the captured picture last changed. A kiosk app normally animates; a picture frozen for minutes often means the app hung even though the stream itself is healthy.',
        unit: 's',
        span: 6,
      }).withTarget(query(`desktop_streamer_picture_unchanged_seconds{${S}}`, '{{kiosk}}')),
      [GREEN, [300, YELLOW], [1800, RED]],
    ),
  );
  board.withPanel(
    withDashedThresholds(
      timeseriesPanel({
        title: 'Picture brightness',
        description:
          'Mean luma of the captured picture (0 = black, 100 % = white). A flat line at 0 % is a black screen: monitor off, app crashed, or the wrong output captured.',
        unit: 'percentunit',
        span: 6,
      }).withTarget(query(`desktop_streamer_picture_brightness_ratio{${S}}`, '{{kiosk}}')),
      [RED, [0.02, GREEN]],
      1,
    ),
  );
}

function resourcesRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('Pipeline resources'));
  board.withPanel(
    stackedAgainstLimit(
      timeseriesPanel({
        title: 'CPU vs quota',
        description: `CPU used by the gst-launch-1.0 child and by the Node supervisor, as a fraction of one core. The red dashed line is the kiosk's configured unity_optimization.cpu_quota_percent (${CPU_QUOTA_RATIO * 100} % by default), the systemd CPUQuota that keeps the kiosk app responsive.`,
        unit: 'percentunit',
        span: 8,
      })
        .withTarget(
          query(
            `rate(desktop_streamer_pipeline_process_cpu_seconds_total{${S}}[$__rate_interval])`,
            '{{kiosk}} pipeline',
          ),
        )
        .withTarget(
          query(`rate(process_cpu_seconds_total{${S}}[$__rate_interval])`, '{{kiosk}} supervisor', 'B'),
        ),
      [`desktop_streamer_config_cpu_quota_ratio{${S}}`, '{{kiosk}} quota'],
      [GREEN, [CPU_QUOTA_RATIO, RED]],
    ),
  );
  board.withPanel(
    stackedAgainstLimit(
      timeseriesPanel({
        title: 'Memory vs limit',
        description: `Resident memory of the gst-launch-1.0 child and of the Node supervisor, stacked. The red dashed line is the kiosk's configured unity_optimization.memory_limit_mb (${MEMORY_LIMIT_BYTES / 1024 / 1024} MiB by default), the systemd MemoryMax of the service.`,
        unit: 'bytes',
        span: 8,
      })
        .withTarget(
          query(`desktop_streamer_pipeline_process_resident_memory_bytes{${S}}`, '{{kiosk}} pipeline'),
        )
        .withTarget(query(`process_resident_memory_bytes{${S}}`, '{{kiosk}} supervisor', 'B')),
      [`desktop_streamer_config_memory_limit_bytes{${S}}`, '{{kiosk}} limit'],
      [GREEN, [MEMORY_LIMIT_BYTES * 0.8, YELLOW], [MEMORY_LIMIT_BYTES, RED]],
    ),
  );
  board.withPanel(
    timeseriesPanel({
      title: 'Pipeline threads',
      description:
        'Threads of the gst-launch-1.0 child. It should be flat for a given encoder; steady growth points at a leak in a plugin.',
      unit: 'none',
      span: 8,
    })
      .withTarget(query(`desktop_streamer_pipeline_process_threads{${S}}`, '{{kiosk}}'))
      .decimals(0)
      .min(0),
  );
}

function hostRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('Host'));
  board.withPanel(
    withDashedThresholds(
      timeseriesPanel({
        title: 'Host CPU',
        description:
          'CPU busy of the whole kiosk host (all cores, 0–100 %), with the 1-minute load average on the right axis. The kiosk app shares this CPU with the stream.',
        unit: 'percentunit',
        span: 6,
      })
        .withTarget(query(`desktop_streamer_host_cpu_usage_ratio{${S}}`, '{{kiosk}} busy'))
        .withTarget(query(`desktop_streamer_host_load1{${S}}`, '{{kiosk}} load1', 'B'))
        .overrideByRegexp('.*load1$', [
          { id: 'unit', value: 'none' },
          { id: 'custom.axisPlacement', value: 'right' },
        ]),
      [GREEN, [0.8, YELLOW], [0.95, RED]],
    ),
  );
  board.withPanel(
    withDashedThresholds(
      timeseriesPanel({
        title: 'Host memory used',
        description: 'Share of host memory not available to new allocations (1 − available / total).',
        unit: 'percentunit',
        span: 6,
      }).withTarget(
        query(
          `1 - desktop_streamer_host_memory_available_bytes{${S}} / desktop_streamer_host_memory_total_bytes{${S}}`,
          '{{kiosk}}',
        ),
      ),
      [GREEN, [0.85, YELLOW], [0.95, RED]],
      1,
    ),
  );
  board.withPanel(
    statPanel({
      title: 'Disk used (segments filesystem)',
      description: `Use of the filesystem that holds output_dir, and the bytes our segments take on it. At ${DISK_CLEANUP_RATIO * 100} % cleanup starts (yellow), at ${DISK_EMERGENCY_RATIO * 100} % only the emergency segments are kept (red).`,
      unit: 'percentunit',
      span: 6,
      height: 8,
    })
      .withTarget(
        query(
          `1 - desktop_streamer_host_filesystem_avail_bytes{${S}} / desktop_streamer_host_filesystem_size_bytes{${S}}`,
          '{{kiosk}} {{mountpoint}}',
        ),
      )
      .withTarget(query(`desktop_streamer_hls_disk_bytes{${S}}`, '{{kiosk}} segments', 'B'))
      .overrideByRegexp('.*segments$', [
        { id: 'unit', value: 'bytes' },
        { id: 'color', value: { mode: 'fixed', fixedColor: BLUE } },
      ])
      .thresholds(thresholds(GREEN, [DISK_CLEANUP_RATIO, YELLOW], [DISK_EMERGENCY_RATIO, RED]))
      .textMode(common.BigValueTextMode.ValueAndName),
  );
  board.withPanel(
    timeseriesPanel({
      title: 'Network',
      description:
        'Bytes per second received (below zero) and sent (above zero) per network device. Sent traffic grows with every player watching the stream.',
      unit: 'Bps',
      span: 6,
    })
      .withTarget(
        query(
          `rate(desktop_streamer_host_network_transmit_bytes_total{${S}, device!="lo"}[$__rate_interval])`,
          '{{kiosk}} {{device}} sent',
        ),
      )
      .withTarget(
        query(
          `-rate(desktop_streamer_host_network_receive_bytes_total{${S}, device!="lo"}[$__rate_interval])`,
          '{{kiosk}} {{device}} received',
          'B',
        ),
      ),
  );
}

function gpuRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('GPU (amdgpu)'));
  board.withPanel(
    timeseriesPanel({
      title: 'GPU memory vs limit',
      description:
        'VRAM and GTT (system memory mapped for the GPU) used per amdgpu card, against unity_optimization.gpu_memory_limit_mb (dashed). The kiosk app needs most of the GPU memory; the stream must stay well below the limit.',
      unit: 'bytes',
      span: 12,
    })
      .withTarget(query(`desktop_streamer_drm_memory_vram_used_bytes{${S}}`, '{{kiosk}} {{card}} VRAM'))
      .withTarget(query(`desktop_streamer_drm_memory_gtt_used_bytes{${S}}`, '{{kiosk}} {{card}} GTT', 'B'))
      .withTarget(query(`desktop_streamer_config_gpu_memory_limit_bytes{${S}}`, '{{kiosk}} limit', 'C'))
      .withOverride(referenceSeriesOverride())
      .min(0),
  );
  board.withPanel(
    withDashedThresholds(
      timeseriesPanel({
        title: 'GPU busy',
        description:
          'Share of time the GPU was busy (amdgpu gpu_busy_percent), per card: the kiosk app and the VAAPI encoder together.',
        unit: 'percentunit',
        span: 12,
      }).withTarget(query(`desktop_streamer_drm_gpu_busy_ratio{${S}}`, '{{kiosk}} {{card}}')),
      [GREEN, [0.8, YELLOW], [0.95, RED]],
      1,
    ),
  );
}

function alertsRow(board: dashboard.DashboardBuilder): void {
  board.withRow(new dashboard.RowBuilder('Alerts'));
  board.withPanel(
    new table.PanelBuilder()
      .title('Firing alerts')
      .description(
        'Alerts currently firing in Prometheus for the selected kiosks (ALERTS{alertstate="firing"}), critical first. Empty is good. Alertmanager routes them to email, Slack, Discord or webhooks.',
      )
      .datasource(DATASOURCE)
      .span(24)
      .height(5)
      .withTarget(
        tableQuery(
          `ALERTS{alertstate="firing", ${NOT_WATCHDOG}, kiosk=~"$kiosk", instance=~"$instance"}`,
          'A',
        ),
      )
      .withTransformation({
        id: 'organize',
        options: {
          excludeByName: { Time: true, Value: true, __name__: true, alertstate: true, job: true },
          indexByName: { severity: 0, alertname: 1, kiosk: 2, instance: 3 },
          renameByName: {},
        },
      })
      .sortBy([new common.TableSortByFieldStateBuilder().displayName('severity').desc(false)])
      .overrideByName('severity', [
        { id: 'custom.cellOptions', value: { type: 'color-background' } },
        {
          id: 'mappings',
          value: [
            {
              type: 'value',
              options: {
                critical: { color: RED, index: 0 },
                warning: { color: ORANGE, index: 1 },
                info: { color: BLUE, index: 2 },
              },
            },
          ],
        },
      ])
      .noValue('No alert firing'),
  );
}

export function buildKioskOverview(): dashboard.Dashboard {
  const board = desktopStreamerDashboard({
    title: 'Desktop streamer — kiosk overview',
    uid: KIOSK_OVERVIEW_UID,
    description:
      'Health of the stream of one or more kiosks: supervisor state, restarts, segments, viewers (HLS and WebRTC), output quality, resources and alerts.',
    tag: 'kiosk',
    from: 'now-3h',
    refresh: '30s',
  })
    .withVariable(instanceVariable())
    .link(dashboardsLink());
  streamRow(board);
  // Firing alerts right under the headline numbers: the first thing an operator needs.
  alertsRow(board);
  faultsRow(board);
  segmentsRow(board);
  viewersRow(board);
  qualityRow(board);
  resourcesRow(board);
  hostRow(board);
  gpuRow(board);
  return finishDashboard(board.build());
}
