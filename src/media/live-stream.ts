/**
 * One pipeline run's encoded stream, as it arrives: MPEG-TS bytes → frames → parts, each given
 * the wall-clock time of its first frame.
 *
 * Timestamps are the pipeline's running time (0 when it went to PLAYING) plus mpegtsmux's fixed
 * offset of one hour, so the moment the supervisor saw the PLAYING bus message turns them into
 * capture times. Without that message (or with timestamps that do not fit it), the run's first
 * frame is anchored to when it arrived — later than its capture by however long the pipeline took
 * to start. Either way later frames follow their timestamps: PROGRAM-DATE-TIME does not jitter
 * with delivery.
 */
import type { NewPart } from '../hls/types.ts';
import { type MediaPart, PartPackager } from './packager.ts';
import { type TsFrame, TsFrameSplitter } from './ts-frame-splitter.ts';
import { PTS_CLOCK_HZ } from './ts-packets.ts';

/** mpegtsmux starts its timestamps at running time + 1 hour (so that DTS never goes negative). */
export const MPEGTSMUX_PTS_OFFSET = 3600 * PTS_CLOCK_HZ;
/** A first frame this long after PLAYING (running time) still fits the PLAYING anchor. */
const MAX_FIRST_FRAME_RUNNING_TIME = 30 * PTS_CLOCK_HZ;

export interface LiveStreamOptions {
  fps: number;
  /** Where parts are cut (see src/hls/low-latency.ts). */
  partSeconds: number;
  segmentSeconds: number;
  now: () => number;
  onPart: (part: NewPart) => void;
  /** Told of every complete frame (stall detection, WebRTC). */
  onFrame?: (frame: TsFrame) => void;
}

export class LiveStream {
  readonly #options: LiveStreamOptions;
  readonly #splitter = new TsFrameSplitter();
  readonly #packager: PartPackager;
  #anchor: { wallMs: number; pts: number } | null = null;
  #playingAt: number | null = null;
  #ended = false;
  frames = 0;

  constructor(options: LiveStreamOptions) {
    this.#options = options;
    this.#packager = new PartPackager({
      partTargetSeconds: options.partSeconds,
      segmentTargetSeconds: options.segmentSeconds,
      frameSeconds: 1 / options.fps,
    });
  }

  /** The pipeline went to PLAYING (its running time 0) at this wall-clock time, epoch ms. */
  playing(wallMs: number): void {
    this.#playingAt ??= wallMs;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Buffer): void {
    if (this.#ended) return;
    for (const frame of this.#splitter.push(chunk)) {
      this.frames++;
      this.#options.onFrame?.(frame);
      this.#anchor ??= this.#anchorFor(frame.pts);
      for (const part of this.#packager.push(frame)) this.#emit(part);
    }
  }

  /** The run is over: what it sent becomes the last (shorter) part of its segment. Later bytes are ignored. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const last = this.#packager.flush();
    if (last) this.#emit(last);
    this.#splitter.reset();
  }

  #anchorFor(firstPts: number): { wallMs: number; pts: number } {
    const runningTime = firstPts - MPEGTSMUX_PTS_OFFSET;
    if (this.#playingAt !== null && runningTime >= 0 && runningTime <= MAX_FIRST_FRAME_RUNNING_TIME) {
      return { wallMs: this.#playingAt, pts: MPEGTSMUX_PTS_OFFSET };
    }
    // A frame is known to be complete when the next one starts: it began about a frame earlier.
    return { wallMs: this.#options.now() - 1000 / this.#options.fps, pts: firstPts };
  }

  #emit(part: MediaPart): void {
    const anchor = this.#anchor!;
    this.#options.onPart({
      data: part.data,
      durationSeconds: part.durationSeconds,
      independent: part.independent,
      startsSegment: part.startsSegment,
      endsSegment: part.endsSegment,
      frames: part.frames,
      programDateTime: Math.round(anchor.wallMs + ((part.firstPts - anchor.pts) / PTS_CLOCK_HZ) * 1000),
    });
  }
}
