/**
 * Groups the frames of one pipeline run into Low-Latency HLS parts and segments:
 * - a segment starts at a keyframe and ends at the first keyframe after segment_duration
 *   (less half a frame, so timestamp jitter never pushes a cut one GOP later);
 * - a part ends after about part_target, and always before a keyframe, so that every keyframe
 *   opens an independent part;
 * - frames before the run's first keyframe cannot be decoded and are dropped.
 * A part is handed out the moment the frame after it arrives. Pure: no I/O, no clock.
 */

import type { TsFrame } from './ts-frame-splitter.ts';
import { PTS_CLOCK_HZ } from './ts-packets.ts';

export interface PackagerOptions {
  partTargetSeconds: number;
  segmentTargetSeconds: number;
  /** Nominal frame interval (1 / fps): the duration of a run's last frame. */
  frameSeconds: number;
}

export interface MediaPart {
  data: Buffer;
  durationSeconds: number;
  /** Starts with a keyframe. */
  independent: boolean;
  /** First part of a segment. */
  startsSegment: boolean;
  /** Last part of its segment: the segment is complete with it. */
  endsSegment: boolean;
  frames: number;
  /** PTS of the first frame (90 kHz, unwrapped): the producer maps it to wall-clock time. */
  firstPts: number;
}

interface OpenPart {
  frames: TsFrame[];
  startsSegment: boolean;
}

export class PartPackager {
  readonly #options: PackagerOptions;
  #part: OpenPart | null = null;
  #segmentStartPts = 0;

  constructor(options: PackagerOptions) {
    this.#options = options;
  }

  push(frame: TsFrame): MediaPart[] {
    const part = this.#part;
    if (!part) {
      if (frame.keyframe) this.#open(frame, true);
      return [];
    }
    const half = this.#options.frameSeconds / 2;
    const sinceSegment = (frame.pts - this.#segmentStartPts) / PTS_CLOCK_HZ;
    const sincePart = (frame.pts - part.frames[0]!.pts) / PTS_CLOCK_HZ;
    const endsSegment = frame.keyframe && sinceSegment >= this.#options.segmentTargetSeconds - half;
    if (!frame.keyframe && sincePart < this.#options.partTargetSeconds - half) {
      part.frames.push(frame);
      return [];
    }
    const done = this.#close(part, sincePart, endsSegment);
    this.#open(frame, endsSegment);
    return [done];
  }

  /** The run ended: what is open becomes the last part and closes its segment. */
  flush(): MediaPart | null {
    const part = this.#part;
    this.#part = null;
    if (!part) return null;
    const last = part.frames.at(-1)!;
    const span = (last.pts - part.frames[0]!.pts) / PTS_CLOCK_HZ + this.#options.frameSeconds;
    return this.#close(part, span, true);
  }

  #open(frame: TsFrame, startsSegment: boolean): void {
    if (startsSegment) this.#segmentStartPts = frame.pts;
    this.#part = { frames: [frame], startsSegment };
  }

  #close(part: OpenPart, durationSeconds: number, endsSegment: boolean): MediaPart {
    const first = part.frames[0]!;
    return {
      data: Buffer.concat(part.frames.map((frame) => frame.data)),
      durationSeconds,
      independent: first.keyframe,
      startsSegment: part.startsSegment,
      endsSegment,
      frames: part.frames.length,
      firstPts: first.pts,
    };
  }
}
