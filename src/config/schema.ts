/**
 * The configuration of desktop-streamer: the keys of the earlier system's
 * `/etc/desktop-streamer/config.json` (accepted verbatim), plus what this design adds.
 * Pure: no I/O here (see load.ts).
 */

export const ENCODER_CHOICES = [
  'auto',
  'vaapi',
  'vah264enc',
  'vaapih264enc',
  'x264',
  'x264enc',
  'openh264',
  'openh264enc',
] as const;
export type EncoderChoice = (typeof ENCODER_CHOICES)[number];

export interface LiveStreamingConfig {
  enabled: boolean;
  /** Segments listed in the public playlist. */
  max_segments: number;
  /** Segments kept when the output filesystem is above the emergency threshold. */
  emergency_segments: number;
  cleanup_threshold_percent: number;
  emergency_cleanup_threshold_percent: number;
}

export interface UnityOptimizationConfig {
  enabled: boolean;
  gpu_memory_limit_mb: number;
  cpu_quota_percent: number;
  memory_limit_mb: number;
  disk_cleanup_threshold_percent: number;
  emergency_cleanup_threshold_percent: number;
}

export interface ApiConfig {
  /** Bearer token for the control endpoints; prefer token_file or DESKTOP_STREAMER_API_TOKEN. */
  token: string | null;
  /** File holding the token (e.g. a systemd credential: $CREDENTIALS_DIRECTORY/api-token). */
  token_file: string | null;
  /** When false, read-only endpoints need the token too. */
  public_read: boolean;
}

export interface WebRtcConfig {
  /** Serve WHEP (POST /whep): sub-second viewing in browsers on the LAN. */
  enabled: boolean;
  /** The one UDP port all WebRTC media uses (ICE UDP mux): the port to open in a firewall. */
  udp_port: number;
  /** Concurrent WebRTC viewers; one more gets 503. */
  max_viewers: number;
  /** STUN/TURN servers ("stun:host:port", "turn:user:password@host:port"); none = LAN host candidates only. */
  ice_servers: string[];
}

export interface Config {
  // --- keys of the earlier system (kept verbatim) ---
  fps: number;
  width: number;
  height: number;
  /** kbit/s */
  bitrate: number;
  /** seconds */
  keyframe_interval: number;
  /** seconds */
  segment_duration: number;
  output_dir: string;
  /** Restarts allowed within restart_window before the supervisor enters the failed state. */
  max_restarts: number;
  /** Upper bound, in seconds, of the exponential restart backoff. */
  restart_delay: number;
  /** Errors allowed within error_window before the pipeline is restarted. */
  max_errors: number;
  /** seconds */
  error_window: number;
  encoder: EncoderChoice;
  live_streaming: LiveStreamingConfig;
  unity_optimization: UnityOptimizationConfig;

  // --- added by desktop-streamer ---
  /** 'auto' = first non-primary monitor; a number = index in `xrandr --listmonitors`; a string = output name (e.g. "HDMI-A-1"). */
  monitor: 'auto' | number | string;
  /** With a single monitor: stream the primary one (with a warning) instead of refusing. */
  single_monitor_fallback: boolean;
  /** X display to capture; null = $DISPLAY. */
  display: string | null;
  bind_address: string;
  port: number;
  /** Seconds without a new segment before the pipeline counts as stalled; null = derived from segment_duration. */
  stall_timeout: number | null;
  /** Window, in seconds, over which max_restarts is counted. */
  restart_window: number;
  /** Exit with status 70 when the failed state is reached, so systemd takes over. */
  exit_on_failure: boolean;
  /** Name of this kiosk in logs, metrics labels and alerts; null = hostname. */
  kiosk_name: string | null;
  /** Root of sysfs (for the AMD GPU collector); tests point it at a fixture tree. */
  sysfs_root: string;
  api: ApiConfig;
  webrtc: WebRtcConfig;
  /** Optional external relay (e.g. a MediaMTX instance) the stream is also pushed to; reported as mediamtx_running. */
  relay_url: string | null;
}

export const DEFAULT_CONFIG: Config = {
  fps: 15,
  width: 1280,
  height: 720,
  bitrate: 2000,
  keyframe_interval: 2,
  segment_duration: 2,
  output_dir: '/tmp/hls',
  max_restarts: 15,
  restart_delay: 60,
  max_errors: 10,
  error_window: 600,
  encoder: 'auto',
  live_streaming: {
    enabled: true,
    max_segments: 5,
    emergency_segments: 2,
    cleanup_threshold_percent: 70,
    emergency_cleanup_threshold_percent: 85,
  },
  unity_optimization: {
    enabled: true,
    gpu_memory_limit_mb: 1024,
    cpu_quota_percent: 30,
    memory_limit_mb: 800,
    disk_cleanup_threshold_percent: 70,
    emergency_cleanup_threshold_percent: 85,
  },
  monitor: 'auto',
  single_monitor_fallback: true,
  display: null,
  bind_address: '0.0.0.0',
  port: 8888,
  stall_timeout: null,
  restart_window: 3600,
  exit_on_failure: false,
  kiosk_name: null,
  sysfs_root: '/sys',
  api: { token: null, token_file: null, public_read: true },
  webrtc: { enabled: true, udp_port: 8889, max_viewers: 20, ice_servers: [] },
  relay_url: null,
};

/**
 * Seconds without a new segment after which /api/health calls the stream stale: three segments
 * (at least 6 s), or stall_timeout when that is longer. (The supervisor's own stall detection
 * watches frames: mediaStallSeconds in src/pipeline/supervisor.ts.)
 */
export function stallTimeoutSeconds(config: Pick<Config, 'stall_timeout' | 'segment_duration'>): number {
  return Math.max(6, 3 * config.segment_duration, config.stall_timeout ?? 0);
}
