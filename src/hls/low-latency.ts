/**
 * Low-Latency HLS timing from the frame rate (pure): parts of about 200 ms, the announced
 * PART-TARGET and PART-HOLD-BACK.
 */

export interface LowLatencyTiming {
  partTargetSeconds: number;
  partHoldBackSeconds: number;
}

/** Frames per part: about 200 ms of video, at least one frame. */
export function framesPerPart(fps: number): number {
  return Math.max(1, Math.round(fps * 0.2));
}

/** The nominal length of a part: where the packager cuts (src/media/packager.ts). */
export function nominalPartSeconds(fps: number): number {
  return framesPerPart(fps) / fps;
}

/**
 * PART-TARGET is the nominal part plus one frame, so that timestamp jitter or a dropped frame
 * never makes a part longer than announced; PART-HOLD-BACK is three part targets, as RFC 8216bis
 * recommends (it requires at least two).
 */
export function lowLatencyTiming(fps: number): LowLatencyTiming {
  const partTargetSeconds = Math.ceil(((framesPerPart(fps) + 1) / fps) * 1000) / 1000;
  return { partTargetSeconds, partHoldBackSeconds: Number((3 * partTargetSeconds).toFixed(3)) };
}
