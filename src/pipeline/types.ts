import type { CapturePlan } from '../capture/types.ts';

/** What the supervisor is doing. */
export type SupervisorState =
  | 'starting' // a pipeline was spawned and has not produced a segment yet
  | 'streaming' // segments are arriving
  | 'backoff' // waiting before the next restart
  | 'no_signal' // the captured monitor/X server is gone; a "no signal" slate is streamed
  | 'failed' // max_restarts within restart_window exceeded; no more automatic restarts
  | 'stopped'; // stopped on request (API or shutdown)

export const SUPERVISOR_STATES: readonly SupervisorState[] = [
  'starting',
  'streaming',
  'backoff',
  'no_signal',
  'failed',
  'stopped',
];

/** GStreamer pipeline state, as named by GStreamer (upper case, like the earlier /api/health). */
export type GstState = 'VOID_PENDING' | 'NULL' | 'READY' | 'PAUSED' | 'PLAYING';

export type RestartReason =
  | 'exited' // the child exited on its own (crash, XIO error, EOS)
  | 'stalled' // no new segment within the stall timeout
  | 'error_burst' // more than max_errors errors within error_window
  | 'capture_changed' // monitor geometry changed / monitor came back
  | 'encoder_demoted' // the encoder failed and the next one in the ladder is tried
  | 'manual'; // API or CLI asked for it

export const RESTART_REASONS: readonly RestartReason[] = [
  'exited',
  'stalled',
  'error_burst',
  'capture_changed',
  'encoder_demoted',
  'manual',
];

/** Coarse classification of pipeline errors, used as a metric label. */
export type PipelineErrorType = 'display' | 'encoder' | 'resource' | 'stream' | 'process' | 'other';

export const PIPELINE_ERROR_TYPES: readonly PipelineErrorType[] = [
  'display',
  'encoder',
  'resource',
  'stream',
  'process',
  'other',
];

export interface RestartRecord {
  /** epoch milliseconds */
  at: number;
  reason: RestartReason;
  detail: string;
}

export interface PipelineErrorRecord {
  /** epoch milliseconds */
  at: number;
  type: PipelineErrorType;
  message: string;
  /** GStreamer element path, when the error came from an element. */
  element: string | null;
}

/** A read-only view of the supervisor, taken at the moment it is asked for (metrics scrape, API call). */
export interface SupervisorSnapshot {
  state: SupervisorState;
  /** epoch ms of the last state change */
  stateSince: number;
  gstState: GstState;
  /** epoch ms when the supervisor started */
  startedAt: number;
  capture: CapturePlan | null;
  pipeline: {
    pid: number | null;
    /** epoch ms when the current pipeline process was spawned */
    startedAt: number | null;
    argv: string[];
  };
  restartCount: number;
  restartsByReason: Record<RestartReason, number>;
  /** Newest last; bounded. */
  recentRestarts: RestartRecord[];
  errorsByType: Record<PipelineErrorType, number>;
  /** Newest last; bounded. */
  recentErrors: PipelineErrorRecord[];
  /** Errors within the configured error_window. */
  errorsInWindow: number;
  lastError: PipelineErrorRecord | null;
  warningsTotal: number;
  /** Seconds of the current (or last) restart backoff; 0 when none. */
  backoffSeconds: number;
  /** Newest last; bounded. */
  stateHistory: { state: SupervisorState; at: number }[];
  /** What xrandr printed when it last failed; null once it answers (optional: older fakes lack it). */
  displayError?: string | null;
}

/** What the API (and CLI) may ask of the supervisor. */
export interface SupervisorControl {
  snapshot(): SupervisorSnapshot;
  /** Start streaming again after stop() or from the failed state (resets the restart budget). */
  startStreaming(): Promise<void>;
  /** Stop the pipeline and stay stopped until startStreaming()/restart(). */
  stopStreaming(): Promise<void>;
  /** Restart the pipeline now (counted with reason "manual"). */
  restart(): Promise<void>;
}
