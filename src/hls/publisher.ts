/**
 * The HLS publisher: takes the parts the supervisor cuts from the pipeline's stream, lists them
 * at once (Low-Latency HLS, from memory), closes a segment with its last part (written to the
 * public dir under never-decreasing sequence numbers), keeps the public playlist (memory +
 * atomic file), answers blocking playlist reloads, and deletes old segments under RFC 8216
 * §6.2.2 retention and disk pressure. It wires two parts:
 *   live-window.ts   what is listed, in memory (segments, parts, their bytes, reload waiters)
 *   disk-keeper.ts   the files that match it (writes, deletions, healing, restore at start-up)
 *
 * Layout under output_dir:
 *   desktop/            public, served at /hls/desktop/: playlist.m3u8 (plain HLS: whole segments),
 *                       seg-<9 digits>.ts, temp files; parts exist in memory only
 *   .state.json         what a restarted supervisor needs to continue (see state-file.ts)
 * Only files matching our exact name patterns are ever deleted; anything else is left alone.
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { statfsUsage } from './disk.ts';
import { createDiskKeeper } from './disk-keeper.ts';
import { createLiveWindow } from './live-window.ts';
import { type LowLatencyTiming, lowLatencyTiming } from './low-latency.ts';
import { type HlsPaths, hlsPaths } from './paths.ts';
import { mediaSequenceOf } from './playlist.ts';
import type { HlsPublisher, HlsSnapshot, LiveEdge, PublicSegment, PublishedPart } from './types.ts';

export { type HlsPaths, hlsPaths, PUBLIC_DIR_NAME } from './paths.ts';
export { continuingSequence } from './restore.ts';

/** publishPart() called with arguments that make no sense. */
export class InvalidSegmentError extends Error {
  override name = 'InvalidSegmentError';
}

/** The HlsPublisher contract plus in-memory access to the rendered playlist for HTTP. */
export interface LocalHlsPublisher extends HlsPublisher {
  /** The plain playlist (whole segments; what playlist.m3u8 on disk holds), or null while none exists. */
  playlistText(): string | null;
  /** The playlist served over HTTP: the same plus its Low-Latency HLS tags and parts (no disk I/O). */
  livePlaylistText(): string | null;
  /**
   * Resolves true once the playlist holds media sequence `msn` (whole, or up to part `part`), or a
   * later one; false after `timeoutMs` (blocking playlist reload, RFC 8216bis §6.2.5.2).
   */
  waitForMedia(msn: number, part: number | null, timeoutMs: number): Promise<boolean>;
  /** Where the playlist stands (see LiveEdge). */
  liveEdge(): LiveEdge;
  /** The bytes of a listed part, or null. */
  partData(name: string): Buffer | null;
  /** Called when a waitForMedia() that had to wait ends: how long it waited, and whether the media came. */
  onReloadWait(listener: (waitedSeconds: number, satisfied: boolean) => void): void;
  /**
   * The bytes of a segment the playlist lists now (kept in memory from when it was published),
   * or null: HTTP then reads the file. Players fetch exactly these, many times over.
   */
  listedSegmentData(name: string): Buffer | null;
  readonly paths: HlsPaths;
}

export interface HlsPublisherOptions {
  config: Config;
  /** Low-Latency HLS timing; lowLatencyTiming(config.fps) by default. */
  lowLatency?: LowLatencyTiming;
  logger: Logger;
  now?: () => number;
  diskUsage?: (dir: string) => Promise<{ usedPercent: number }>;
}

export function createHlsPublisher(options: HlsPublisherOptions): LocalHlsPublisher {
  const { config } = options;
  const log = options.logger.child({ module: 'hls-publisher' });
  const now = options.now ?? Date.now;
  const paths = hlsPaths(config.output_dir);
  const liveWindow = createLiveWindow({
    segmentDurationSeconds: config.segment_duration,
    timing: options.lowLatency ?? lowLatencyTiming(config.fps),
    now,
  });
  const keeper = createDiskKeeper({
    paths,
    window: liveWindow,
    live: config.live_streaming,
    segmentDurationSeconds: config.segment_duration,
    log,
    now,
    diskUsage: options.diskUsage ?? statfsUsage,
  });
  let segmentsWrittenTotal = 0;
  let discontinuitiesTotal = 0;
  let lastSegmentAt: number | null = null;
  const segmentListeners: Array<(segment: PublicSegment) => void> = [];
  const partListeners: Array<(part: PublishedPart) => void> = [];

  /**
   * The open segment is complete: list it at once (served from memory), then write its file, the
   * plain playlist and the state file in the background queue. The returned promise settles when
   * that disk work is done; it rejects when it failed (the segment stays listed and served).
   */
  function closeOpenSegment(): Promise<PublicSegment> {
    const time = now();
    const { segment, data, removed } = liveWindow.closeOpenSegment(keeper.windowSize());
    keeper.retire(removed, time);
    segmentsWrittenTotal += 1;
    if (segment.discontinuity) discontinuitiesTotal += 1;
    lastSegmentAt = time;
    const written = keeper.persistSegment(segment, data, time);
    for (const listener of segmentListeners) {
      try {
        listener(segment);
      } catch (error) {
        log.error({ err: error }, 'HLS segment listener threw');
      }
    }
    return written;
  }

  function snapshot(): HlsSnapshot {
    const model = liveWindow.model();
    const onDisk = [
      ...model.entries.map((entry) => entry.segment.bytes),
      ...keeper.retained().map((segment) => segment.bytes),
    ];
    return {
      playlistPath: paths.playlistPath,
      publicDir: paths.publicDir,
      playlistExists: liveWindow.plainText() !== null,
      mediaSequence: mediaSequenceOf(model),
      discontinuitySequence: model.discontinuitySequence,
      targetDurationSeconds: model.targetDurationSeconds,
      segments: model.entries.map((entry) => ({ ...entry.segment })),
      segmentsWrittenTotal,
      discontinuitiesTotal,
      lastSegmentAt,
      filesOnDisk: onDisk.length,
      bytesOnDisk: onDisk.reduce((sum, bytes) => sum + bytes, 0),
    };
  }

  return {
    paths,

    start: () => keeper.start(Math.max(1000, config.segment_duration * 1000)),

    stop: () => keeper.stop(),

    beginRun() {
      // A producer that never said its last part ended.
      if (liveWindow.hasOpenSegment()) void closeOpenSegment().catch(() => {});
      liveWindow.beginRun();
      log.info({ discontinuity: liveWindow.model().discontinuityPending }, 'pipeline run begins');
      // Not awaited: parts and segments are served from memory, so a disk that is read-only, full
      // or hung (a write stuck in the kernel) must never hold up a new run.
      keeper.prepareRun().catch((error: unknown) => {
        log.warn({ err: error, dir: paths.publicDir }, 'HLS output dir not writable: streaming from memory');
      });
      return Promise.resolve();
    },

    endRun() {
      if (liveWindow.hasOpenSegment()) closeOpenSegment();
      return keeper.idle();
    },

    publishPart(part) {
      if (!(Number.isFinite(part.durationSeconds) && part.durationSeconds > 0) || part.data.length === 0) {
        return Promise.reject(
          new InvalidSegmentError(
            `part of ${part.data.length} bytes lasting ${part.durationSeconds} s is not allowed: must have bytes and a finite duration > 0`,
          ),
        );
      }
      if (liveWindow.hasOpenSegment() && part.startsSegment) closeOpenSegment();
      if (!liveWindow.hasOpenSegment() && !part.independent) {
        return Promise.reject(
          new InvalidSegmentError('a segment must start with an independent part (a keyframe)'),
        );
      }
      const ref = liveWindow.appendPart(part);
      const written = part.endsSegment ? closeOpenSegment() : null;
      for (const listener of partListeners) listener({ ...ref, programDateTime: part.programDateTime });
      return written ?? Promise.resolve(null);
    },

    cleanup: () => keeper.cleanup(),
    snapshot,

    playlistText: liveWindow.plainText,
    livePlaylistText: liveWindow.livePlaylistText,
    listedSegmentData: liveWindow.listedSegmentData,
    partData: liveWindow.partData,
    liveEdge: liveWindow.liveEdge,
    waitForMedia: liveWindow.waitForMedia,
    onReloadWait: liveWindow.onReloadWait,

    onPart(listener) {
      partListeners.push(listener);
    },

    onSegment(listener) {
      segmentListeners.push(listener);
    },
  };
}
