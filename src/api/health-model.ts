/**
 * Pure mapping from snapshots to the JSON documents of /api/health, /api/status and
 * /api/health/detailed. The shapes of /api/health and /api/status are those of the earlier
 * system (existing users parse them); keep their field names and types.
 */
import type { CapturePlan } from '../capture/types.ts';
import { type DisplayAccess, displayAccessOf } from '../capture/x-access.ts';
import { type Config, stallTimeoutSeconds } from '../config/schema.ts';
import type { HlsSnapshot } from '../hls/types.ts';
import type {
  GstState,
  PipelineErrorType,
  RestartReason,
  SupervisorSnapshot,
  SupervisorState,
} from '../pipeline/types.ts';

export interface HealthJson {
  monitoring_active: boolean;
  total_errors: number;
  recent_errors: number;
  current_state: GstState;
  stream_active: boolean;
  mediamtx_running: boolean;
  restart_count: number;
  last_error: string | null;
  uptime_minutes: number;
  memory_usage_mb: number;
  system_memory_percent: number;
}

export interface HealthInputs {
  supervisor: SupervisorSnapshot;
  hls: HlsSnapshot;
  config: Config;
  /** epoch ms */
  now: number;
  relayReachable: boolean;
  /** Supervisor RSS + pipeline child RSS. */
  memoryUsageBytes: number;
  systemMemoryPercent: number;
}

const MIB = 1024 * 1024;

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A new segment was published within the stall timeout. */
export function isStreamActive(hls: HlsSnapshot, config: Config, now: number): boolean {
  if (hls.lastSegmentAt === null) return false;
  return now - hls.lastSegmentAt <= stallTimeoutSeconds(config) * 1000;
}

/** Age of the newest segment minus the segment duration (≥ 0), as the metric of the same name; null before the first segment. */
export function segmentLagSeconds(hls: HlsSnapshot, config: Config, now: number): number | null {
  if (hls.lastSegmentAt === null) return null;
  return round1(Math.max(0, (now - hls.lastSegmentAt) / 1000 - config.segment_duration));
}

export function buildHealth(inputs: HealthInputs): HealthJson {
  const { supervisor, hls, config, now } = inputs;
  const totalErrors = Object.values(supervisor.errorsByType).reduce((sum, n) => sum + n, 0);
  return {
    // The supervisor watches the pipeline unless it was stopped on request.
    monitoring_active: supervisor.state !== 'stopped',
    total_errors: totalErrors,
    recent_errors: supervisor.errorsInWindow,
    current_state: supervisor.gstState,
    stream_active: isStreamActive(hls, config, now),
    mediamtx_running: config.relay_url !== null && inputs.relayReachable,
    restart_count: supervisor.restartCount,
    last_error: supervisor.lastError?.message ?? null,
    uptime_minutes: round1(Math.max(0, now - supervisor.startedAt) / 60_000),
    memory_usage_mb: round1(inputs.memoryUsageBytes / MIB),
    system_memory_percent: round1(inputs.systemMemoryPercent),
  };
}

/** Healthy = streaming and a fresh segment; decides 200 vs 503 on /api/health. */
export function isHealthy(supervisor: SupervisorSnapshot, health: HealthJson): boolean {
  return supervisor.state === 'streaming' && health.stream_active;
}

export interface ServiceStateJson {
  active: boolean;
  details: { ActiveState: string; SubState: string };
  /** Where the state came from: systemd (`systemctl show`) or the supervisor's own state. */
  source: 'systemd' | 'supervisor';
}

/** Systemd-like service state derived from the supervisor, for runs outside systemd. */
export function serviceStateFromSupervisor(state: SupervisorState): ServiceStateJson {
  switch (state) {
    case 'failed':
      return { active: false, details: { ActiveState: 'failed', SubState: 'failed' }, source: 'supervisor' };
    case 'stopped':
      return { active: false, details: { ActiveState: 'inactive', SubState: 'dead' }, source: 'supervisor' };
    default:
      return { active: true, details: { ActiveState: 'active', SubState: 'running' }, source: 'supervisor' };
  }
}

export function serviceStateFromSystemd(activeState: string, subState: string): ServiceStateJson {
  return {
    active: activeState === 'active' || activeState === 'reloading',
    details: { ActiveState: activeState, SubState: subState },
    source: 'systemd',
  };
}

export interface StreamJson {
  playlist_exists: boolean;
  segment_count: number;
  total_size_mb: number;
  stream_active: boolean;
}

export function buildStream(hls: HlsSnapshot, config: Config, now: number): StreamJson {
  return {
    playlist_exists: hls.playlistExists,
    // Like the earlier system: segment files on disk in the public dir (listed + retained).
    segment_count: hls.filesOnDisk,
    total_size_mb: round1(hls.bytesOnDisk / MIB),
    stream_active: isStreamActive(hls, config, now),
  };
}

export interface SystemJson {
  cpu_percent: number;
  memory_percent: number;
  /** null when the filesystem of output_dir cannot be read. */
  disk_usage_percent: number | null;
}

export interface StatusJson {
  service: ServiceStateJson;
  stream: StreamJson;
  health: HealthJson;
  system: SystemJson;
}

export function buildStatus(parts: {
  service: ServiceStateJson;
  hls: HlsSnapshot;
  config: Config;
  now: number;
  health: HealthJson;
  system: SystemJson;
}): StatusJson {
  return {
    service: parts.service,
    stream: buildStream(parts.hls, parts.config, parts.now),
    health: parts.health,
    system: parts.system,
  };
}

const SECRET_KEYS = new Set(['token', 'password', 'secret', 'api_key', 'apikey', 'authorization']);
export const REDACTED = '[redacted]';

/** Deep copy of the config with secret-looking values replaced; a file path to a secret is kept. */
export function redactConfig(config: Config): Record<string, unknown> {
  return redactValue(config) as Record<string, unknown>;
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value === 'string') return redactUrlPassword(value);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) && inner !== null ? REDACTED : redactValue(inner);
  }
  return out;
}

/**
 * rtsp://user:secret@host/x?token=t → rtsp://user:[redacted]@host/x?[redacted] (e.g. relay_url):
 * the password and the whole query string and fragment, where relays carry keys. And
 * turn:user:secret@host → turn:user:[redacted]@host.
 */
export function redactUrlPassword(text: string): string {
  // STUN/TURN URLs have no "//": turn:user:secret@host:3478 (webrtc.ice_servers).
  if (/^turns?:/i.test(text)) return text.replace(/^(turns?:[^:@\s]*):[^@\s]*@/i, `$1:${REDACTED}@`);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^/@\s]*@/i, `$1:${REDACTED}@`)
    .replace(/\?[^#]*/, `?${REDACTED}`)
    .replace(/#.*$/, `#${REDACTED}`);
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

function captureJson(capture: CapturePlan | null): Record<string, unknown> | null {
  if (capture === null) return null;
  const m = capture.monitor;
  return {
    display: capture.display,
    monitor: {
      index: m.index,
      name: m.name,
      outputs: m.outputs,
      primary: m.primary,
      geometry: `${m.width}x${m.height}+${m.x}+${m.y}`,
    },
    fallback_to_primary: capture.fallbackToPrimary,
    encoder: { element: capture.encoder.element, reason: capture.encoder.reason },
    output: {
      width: capture.width,
      height: capture.height,
      fps: capture.fps,
      bitrate_kbps: capture.bitrateKbps,
      keyframe_interval_seconds: capture.keyframeIntervalSeconds,
      segment_duration_seconds: capture.segmentDurationSeconds,
    },
  };
}

export interface DetailedJson {
  healthy: boolean;
  generated_at: string;
  health: HealthJson;
  supervisor: {
    state: SupervisorState;
    state_since: string;
    gst_state: GstState;
    started_at: string;
    backoff_seconds: number;
    state_history: { state: SupervisorState; at: string }[];
  };
  capture: Record<string, unknown> | null;
  /** Can the supervisor reach the X display; `error` = what xrandr printed when it last failed. */
  display: { access: DisplayAccess; error: string | null };
  pipeline: { pid: number | null; started_at: string | null; uptime_seconds: number | null; argv: string[] };
  restarts: {
    total: number;
    by_reason: Record<RestartReason, number>;
    recent: { at: string; reason: RestartReason; detail: string }[];
  };
  errors: {
    total: number;
    in_window: number;
    window_seconds: number;
    by_type: Record<PipelineErrorType, number>;
    warnings_total: number;
    recent: { at: string; type: PipelineErrorType; message: string; element: string | null }[];
  };
  stream: StreamJson & {
    segment_lag_seconds: number | null;
    stall_timeout_seconds: number;
    last_segment_at: string | null;
  };
  playlist: {
    path: string;
    exists: boolean;
    media_sequence: number;
    discontinuity_sequence: number;
    target_duration_seconds: number;
    segments: number;
    duration_seconds: number;
    segments_written_total: number;
    discontinuities_total: number;
    files_on_disk: number;
    bytes_on_disk: number;
  };
  config: Record<string, unknown>;
}

export function buildDetailed(parts: {
  supervisor: SupervisorSnapshot;
  hls: HlsSnapshot;
  config: Config;
  now: number;
  health: HealthJson;
}): DetailedJson {
  const { supervisor: s, hls, config, now, health } = parts;
  const playlistDuration = hls.segments.reduce((sum, seg) => sum + seg.durationSeconds, 0);
  return {
    healthy: isHealthy(s, health),
    generated_at: new Date(now).toISOString(),
    health,
    supervisor: {
      state: s.state,
      state_since: new Date(s.stateSince).toISOString(),
      gst_state: s.gstState,
      started_at: new Date(s.startedAt).toISOString(),
      backoff_seconds: s.backoffSeconds,
      state_history: s.stateHistory.map((h) => ({ state: h.state, at: new Date(h.at).toISOString() })),
    },
    capture: captureJson(s.capture),
    display: { access: displayAccessOf(s.capture !== null, s.displayError), error: s.displayError ?? null },
    pipeline: {
      pid: s.pipeline.pid,
      started_at: iso(s.pipeline.startedAt),
      uptime_seconds: s.pipeline.startedAt === null ? null : round1((now - s.pipeline.startedAt) / 1000),
      argv: s.pipeline.argv,
    },
    restarts: {
      total: s.restartCount,
      by_reason: { ...s.restartsByReason },
      recent: s.recentRestarts.map((r) => ({
        at: new Date(r.at).toISOString(),
        reason: r.reason,
        detail: r.detail,
      })),
    },
    errors: {
      total: health.total_errors,
      in_window: s.errorsInWindow,
      window_seconds: config.error_window,
      by_type: { ...s.errorsByType },
      warnings_total: s.warningsTotal,
      recent: s.recentErrors.map((e) => ({
        at: new Date(e.at).toISOString(),
        type: e.type,
        message: e.message,
        element: e.element,
      })),
    },
    stream: {
      ...buildStream(hls, config, now),
      segment_lag_seconds: segmentLagSeconds(hls, config, now),
      stall_timeout_seconds: stallTimeoutSeconds(config),
      last_segment_at: iso(hls.lastSegmentAt),
    },
    playlist: {
      path: hls.playlistPath,
      exists: hls.playlistExists,
      media_sequence: hls.mediaSequence,
      discontinuity_sequence: hls.discontinuitySequence,
      target_duration_seconds: hls.targetDurationSeconds,
      segments: hls.segments.length,
      duration_seconds: round1(playlistDuration),
      segments_written_total: hls.segmentsWrittenTotal,
      discontinuities_total: hls.discontinuitiesTotal,
      files_on_disk: hls.filesOnDisk,
      bytes_on_disk: hls.bytesOnDisk,
    },
    config: redactConfig(config),
  };
}
