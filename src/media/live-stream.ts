/**
 * One pipeline run's encoded stream, as it arrives: MPEG-TS bytes → frames → parts, each given
 * the wall-clock time of its first frame (the run's first frame is anchored to the clock, the
 * rest follow their timestamps, so PROGRAM-DATE-TIME does not jitter with delivery).
 */
import type { NewPart } from '../hls/types.ts';
import { type MediaPart, PartPackager } from './packager.ts';
import { TsFrameSplitter } from './ts-frame-splitter.ts';
import { PTS_CLOCK_HZ } from './ts-packets.ts';

export interface LiveStreamOptions {
  fps: number;
  /** Where parts are cut (see src/hls/low-latency.ts). */
  partSeconds: number;
  segmentSeconds: number;
  now: () => number;
  onPart: (part: NewPart) => void;
  /** Told of every complete frame (stall detection). */
  onFrame?: () => void;
}

export class LiveStream {
  readonly #options: LiveStreamOptions;
  readonly #splitter = new TsFrameSplitter();
  readonly #packager: PartPackager;
  #anchor: { wallMs: number; pts: number } | null = null;
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

  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Buffer): void {
    if (this.#ended) return;
    for (const frame of this.#splitter.push(chunk)) {
      this.frames++;
      this.#options.onFrame?.();
      // A frame is known to be complete when the next one starts: it began about a frame earlier.
      this.#anchor ??= { wallMs: this.#options.now() - 1000 / this.#options.fps, pts: frame.pts };
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
