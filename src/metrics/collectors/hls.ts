import type { Config } from '../../config/schema.ts';
import type { HlsSnapshot, PublicSegment, PublishedPart } from '../../hls/types.ts';
import type { SupervisorSnapshot } from '../../pipeline/types.ts';
import { type CollectorDefinition, setCounter } from '../scrape.ts';

export interface HlsCollectorDeps {
  config: Pick<Config, 'segment_duration'>;
  hls: {
    snapshot(): HlsSnapshot;
    onSegment(listener: (segment: PublicSegment) => void): void;
    onPart(listener: (part: PublishedPart) => void): void;
    /** Blocking playlist reloads that had to wait (the local publisher only). */
    onReloadWait?(listener: (waitedSeconds: number, satisfied: boolean) => void): void;
  };
  supervisor: { snapshot(): SupervisorSnapshot };
  /** epoch ms */
  now: () => number;
}

export const SEGMENT_DURATION_BUCKETS = [0.5, 1, 1.5, 2, 3, 4, 6, 8, 10, 15, 20];
export const SEGMENT_SIZE_BUCKETS = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192].map(
  (kib) => kib * 1024,
);

/** How long after its media ended a part or segment was listed: a frame or so when healthy. */
export const PUBLISH_LAG_BUCKETS = [0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5];
/** A blocking reload waits about one part; three target durations at most. */
export const RELOAD_WAIT_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 4, 8];

/** Seconds between the end of a piece of media (its PDT + duration) and `nowMs`. Pure. */
export function publishLagSeconds(nowMs: number, programDateTime: number, durationSeconds: number): number {
  return Math.max(0, (nowMs - programDateTime) / 1000 - durationSeconds);
}

export interface WindowRates {
  bytesPerSecond: number;
  /** NaN when no segment in the window has a frame count. */
  framesPerSecond: number;
}

/** Measured bitrate and frame rate over the segments of the playlist window. Pure. */
export function windowRates(segments: readonly PublicSegment[]): WindowRates {
  let bytes = 0;
  let seconds = 0;
  let frames = 0;
  let framedSeconds = 0;
  for (const segment of segments) {
    if (!(segment.durationSeconds > 0)) continue;
    bytes += segment.bytes;
    seconds += segment.durationSeconds;
    if (segment.frames !== null) {
      frames += segment.frames;
      framedSeconds += segment.durationSeconds;
    }
  }
  return {
    bytesPerSecond: seconds > 0 ? bytes / seconds : 0,
    framesPerSecond: framedSeconds > 0 ? frames / framedSeconds : seconds > 0 ? Number.NaN : 0,
  };
}

/**
 * Seconds the newest segment is overdue: max(0, now − lastSegmentAt − segment_duration).
 * Before the first segment the supervisor's start time stands in for lastSegmentAt, so a
 * stream that never produces a segment shows a growing lag too. Pure.
 */
export function segmentLagSeconds(
  nowMs: number,
  lastSegmentAtMs: number | null,
  fallbackMs: number,
  segmentDurationSeconds: number,
): number {
  const reference = lastSegmentAtMs ?? fallbackMs;
  return Math.max(0, (nowMs - reference) / 1000 - segmentDurationSeconds);
}

/** The public HLS output (HlsSnapshot) plus histograms of every published segment. */
export function hlsCollector(deps: HlsCollectorDeps): CollectorDefinition {
  return {
    name: 'hls',
    setup(metrics) {
      const written = metrics.counter('desktop_streamer_hls_segments_written_total', 'Segments published.');
      const lag = metrics.gauge(
        'desktop_streamer_hls_segment_lag_seconds',
        'Age of the newest segment minus the configured segment duration (>= 0; grows when the stream stalls).',
      );
      const lastSegment = metrics.gauge(
        'desktop_streamer_hls_last_segment_timestamp_seconds',
        'When the newest segment was published (0 before the first one).',
      );
      const durations = metrics.histogram(
        'desktop_streamer_hls_segment_duration_seconds',
        'Duration of published segments.',
        SEGMENT_DURATION_BUCKETS,
      );
      const sizes = metrics.histogram(
        'desktop_streamer_hls_segment_size_bytes',
        'Size of published segments.',
        SEGMENT_SIZE_BUCKETS,
      );
      const onDisk = metrics.gauge(
        'desktop_streamer_hls_segments_on_disk',
        'Our segment files on disk (listed + retained).',
      );
      const diskBytes = metrics.gauge(
        'desktop_streamer_hls_disk_bytes',
        'Bytes of our segment files on disk.',
      );
      const mediaSequence = metrics.gauge(
        'desktop_streamer_hls_media_sequence',
        'EXT-X-MEDIA-SEQUENCE of the public playlist.',
      );
      const discontinuities = metrics.counter(
        'desktop_streamer_hls_discontinuities_total',
        'Discontinuities published.',
      );
      const bitrate = metrics.gauge(
        'desktop_streamer_hls_output_bitrate_bytes_per_second',
        'Measured bitrate over the playlist window, in bytes per second (0 with an empty playlist).',
      );
      const framesPerSecond = metrics.gauge(
        'desktop_streamer_hls_output_frames_per_second',
        'Measured frame rate over the playlist window, frames counted by the packager (NaN when unknown).',
      );

      const parts = metrics.counter(
        'desktop_streamer_hls_parts_published_total',
        'Low-Latency HLS parts listed.',
      );
      const lagOf = metrics.histogram(
        'desktop_streamer_hls_publish_lag_seconds',
        'Time from the end of a part or segment (PDT + duration) to its listing in the playlist.',
        PUBLISH_LAG_BUCKETS,
        ['kind'],
      );
      const reloadWaits = metrics.histogram(
        'desktop_streamer_hls_blocking_reload_wait_seconds',
        'How long blocking playlist reloads (_HLS_msn/_HLS_part) waited, by whether the media came in time.',
        RELOAD_WAIT_BUCKETS,
        ['outcome'],
      );

      deps.hls.onSegment((segment) => {
        durations.observe(segment.durationSeconds);
        sizes.observe(segment.bytes);
        lagOf.observe(
          { kind: 'segment' },
          publishLagSeconds(deps.now(), segment.programDateTime, segment.durationSeconds),
        );
      });
      deps.hls.onPart((part) => {
        parts.inc();
        lagOf.observe(
          { kind: 'part' },
          publishLagSeconds(deps.now(), part.programDateTime, part.durationSeconds),
        );
      });
      deps.hls.onReloadWait?.((waitedSeconds, satisfied) =>
        reloadWaits.observe({ outcome: satisfied ? 'ready' : 'timeout' }, waitedSeconds),
      );

      return () => {
        const snapshot = deps.hls.snapshot();
        const now = deps.now();
        setCounter(written, snapshot.segmentsWrittenTotal);
        setCounter(discontinuities, snapshot.discontinuitiesTotal);
        lastSegment.set(snapshot.lastSegmentAt === null ? 0 : snapshot.lastSegmentAt / 1000);
        lag.set(
          segmentLagSeconds(
            now,
            snapshot.lastSegmentAt,
            deps.supervisor.snapshot().startedAt,
            deps.config.segment_duration,
          ),
        );
        onDisk.set(snapshot.filesOnDisk);
        diskBytes.set(snapshot.bytesOnDisk);
        mediaSequence.set(snapshot.mediaSequence);
        const rates = windowRates(snapshot.segments);
        bitrate.set(rates.bytesPerSecond);
        framesPerSecond.set(rates.framesPerSecond);
      };
    },
  };
}
