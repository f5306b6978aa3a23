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
  /** Video frames in the segment, when known. */
  frames: number | null;
  /** Its Low-Latency HLS parts, while they are kept (memory only; absent after a restore). */
  parts?: PartRef[];
}

/** Where the live playlist stands. */
export interface LiveEdge {
  /** The segment being assembled, or the next one when none is open. */
  msn: number;
  /** Parts of it listed so far. */
  parts: number;
  /** Part `parts` of `msn` is announced (EXT-X-PRELOAD-HINT): from the first run on. */
  hinted: boolean;
}

/** A part as it was listed, with the wall-clock time of its first frame (epoch ms). */
export type PublishedPart = PartRef & { programDateTime: number };

/** A Low-Latency HLS partial segment as listed by EXT-X-PART. */
export interface PartRef {
  uri: string;
  durationSeconds: number;
  /** Starts with a keyframe (INDEPENDENT=YES). */
  independent: boolean;
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

/** A part cut by the producer (src/media/packager.ts), with its wall-clock start. */
export interface NewPart {
  data: Buffer;
  durationSeconds: number;
  independent: boolean;
  startsSegment: boolean;
  endsSegment: boolean;
  frames: number;
  /** Wall-clock time of its first frame, epoch ms (the segment's EXT-X-PROGRAM-DATE-TIME when it opens one). */
  programDateTime: number;
}

/**
 * The HLS publisher owns the public playlist. The supervisor tells it when a pipeline run begins
 * and ends and hands it every part it cuts from the pipeline's stream; the API and metrics read
 * its snapshot.
 */
export interface HlsPublisher {
  /** Create dirs, sweep leftovers of an earlier run (only files that are ours), write nothing public yet. */
  start(): Promise<void>;
  /** Stop timers; the public playlist stays as it is (no ENDLIST: a restarted supervisor continues it). */
  stop(): Promise<void>;
  /**
   * A new pipeline run begins: the first segment published after this carries
   * EXT-X-DISCONTINUITY, unless nothing was published before. Rejects when the output dir is unusable.
   */
  beginRun(): Promise<void>;
  /**
   * List a part at once. A part with `endsSegment` completes its segment, which is then written to
   * the public dir: the promise settles after that (the published segment), or at once (null) for
   * other parts. A segment must begin with an independent part.
   */
  publishPart(part: NewPart): Promise<PublicSegment | null>;
  /** The run ended: an unfinished segment is published as it is (shorter). Settles when it is written. */
  endRun(): Promise<void>;
  /** Delete segments that left the playlist, keeping RFC 8216 §6.2.2 retention. Returns files removed. */
  cleanup(): Promise<{ removedFiles: number; removedBytes: number }>;
  snapshot(): HlsSnapshot;
  /** Called after every published segment (metrics histograms). */
  onSegment(listener: (segment: PublicSegment) => void): void;
  /** Called after every listed part. */
  onPart(listener: (part: PublishedPart) => void): void;
}
