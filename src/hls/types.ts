/** A segment listed (or recently listed) in the public playlist. */
export interface PublicSegment {
  /** Media sequence number; never goes backwards across pipeline restarts. */
  sequence: number;
  /** File name relative to the public playlist (e.g. "seg-000123.ts"). */
  uri: string;
  durationSeconds: number;
  bytes: number;
  /** Wall-clock time of the segment's first frame, epoch ms (EXT-X-PROGRAM-DATE-TIME). */
  programDateTime: number;
  /** First segment after a pipeline restart. */
  discontinuity: boolean;
  /** Video frames in the segment (counted from the MPEG-TS), when known. */
  frames: number | null;
}

/** A read-only view of the public HLS output, taken when asked for. */
export interface HlsSnapshot {
  playlistPath: string;
  /** Directory served at /hls/desktop/. */
  publicDir: string;
  playlistExists: boolean;
  mediaSequence: number;
  discontinuitySequence: number;
  targetDurationSeconds: number;
  /** Segments currently in the playlist, oldest first. */
  segments: PublicSegment[];
  segmentsWrittenTotal: number;
  discontinuitiesTotal: number;
  /** epoch ms when the newest segment was published; null before the first one. */
  lastSegmentAt: number | null;
  /** Our files on disk in the public dir (listed + retained for RFC 8216 §6.2.2). */
  filesOnDisk: number;
  bytesOnDisk: number;
}

/**
 * The HLS publisher owns the public playlist. The supervisor tells it when a pipeline run
 * begins and hands it every segment hlssink2 closes; the API and metrics read its snapshot.
 */
export interface HlsPublisher {
  /** Create dirs, sweep leftovers of an earlier run (only files that are ours), write nothing public yet. */
  start(): Promise<void>;
  /** Stop timers; the public playlist stays as it is (no ENDLIST: a restarted supervisor continues it). */
  stop(): Promise<void>;
  /**
   * A new pipeline run begins. Returns the private work directory hlssink2 must write into
   * (fresh and empty). The first segment published after this carries EXT-X-DISCONTINUITY,
   * unless nothing was published before.
   */
  beginRun(): Promise<string>;
  /**
   * hlssink2 closed a segment at `workFile` (inside the current run's work dir).
   * Moves it into the public dir under the next media sequence number, rewrites the playlist
   * atomically, applies retention. Returns the published segment, or null if the file was missing/empty.
   * `startedAt` (epoch ms of the segment's first frame) becomes its EXT-X-PROGRAM-DATE-TIME when the
   * producer knows it; else it is estimated from the publish time.
   */
  publishSegment(
    workFile: string,
    durationSeconds: number,
    startedAt?: number,
  ): Promise<PublicSegment | null>;
  /** Delete segments that left the playlist, keeping RFC 8216 §6.2.2 retention. Returns files removed. */
  cleanup(): Promise<{ removedFiles: number; removedBytes: number }>;
  snapshot(): HlsSnapshot;
  /** Called after every published segment (metrics histograms, stall detection). */
  onSegment(listener: (segment: PublicSegment) => void): void;
}
