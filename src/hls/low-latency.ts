/**
 * Low-Latency HLS timing from the frame rate (pure): parts of about 200 ms, the announced
 * PART-TARGET and PART-HOLD-BACK.
 *
 * The pipeline's frames come on an exact 1/fps grid (videorate before the encoder), so every part
 * but a segment's last lasts exactly framesPerPart frames. RFC 8216bis §4.4.4.9 wants each part
 * ≤ PART-TARGET and, but for independent and final ones, ≥ 85 % of it: PART-TARGET is the nominal
 * part rounded up to the next whole millisecond (timestamps are 90 kHz ticks, ± 1 tick).
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

/** PART-HOLD-BACK is three part targets, as RFC 8216bis recommends (it requires at least two). */
export function lowLatencyTiming(fps: number): LowLatencyTiming {
  const partTargetSeconds = Math.ceil(nominalPartSeconds(fps) * 1000 + 0.5) / 1000;
  return { partTargetSeconds, partHoldBackSeconds: Number((3 * partTargetSeconds).toFixed(3)) };
}
