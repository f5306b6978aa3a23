/**
 * When the media FIFO may be read on a timer (media-fifo.ts) rather than at every frame. Pure.
 *
 * A timer read takes what the pipe holds, and a pipe holds 64 KiB (Linux's default): read every
 * PACED_READ_INTERVAL_MS, it carries at most ≈ 190 KiB/s. A full-motion scene at the default
 * 2 Mbit/s is ≈ 240 KiB/s, so paced reading would fall behind and the pipeline's queue would grow
 * without end. Hence a timer only while no viewer needs each frame AND the stream is slow enough:
 * below half of what a timer carries, with hysteresis so that a keyframe does not flip it.
 */
export type IntakeCadence = 'frame' | 'paced';

/** Bytes a paced read empties the pipe of at most: its default capacity. */
export const PIPE_CAPACITY_BYTES = 64 * 1024;
/** About one Low-Latency HLS part at 15 fps: a plain-HLS segment is listed at most this much later. */
export const PACED_READ_INTERVAL_MS = 333;
/** At or above this rate, read every frame (half of what a timer carries). */
export const PACED_MAX_BYTES_PER_SECOND = (PIPE_CAPACITY_BYTES / PACED_READ_INTERVAL_MS) * 1000 * 0.5;
/** Back to a timer only below this rate. */
export const PACED_RESUME_BYTES_PER_SECOND = PACED_MAX_BYTES_PER_SECOND * 0.6;
/** The rate is measured over windows of at least this long. */
export const RATE_WINDOW_MS = 1000;

export interface CadenceInputs {
  /** A viewer needs each frame as it is made (FrameDemand). */
  everyFrame: boolean;
  /** The last full window's rate, bytes per second; null before the first window ends. */
  bytesPerSecond: number | null;
  /** A read found the pipe full: its writer was waiting for us. */
  pipeWasFull: boolean;
}

export function nextCadence(current: IntakeCadence, inputs: CadenceInputs): IntakeCadence {
  if (inputs.everyFrame || inputs.pipeWasFull) return 'frame';
  const rate = inputs.bytesPerSecond;
  if (rate === null) return current;
  if (current === 'paced') return rate >= PACED_MAX_BYTES_PER_SECOND ? 'frame' : 'paced';
  return rate < PACED_RESUME_BYTES_PER_SECOND ? 'paced' : 'frame';
}

/** Bytes per second over consecutive windows of at least RATE_WINDOW_MS. */
export class RateMeter {
  #windowStart: number;
  #bytes = 0;
  #last: number | null = null;

  constructor(now: number) {
    this.#windowStart = now;
  }

  add(bytes: number, now: number): void {
    this.#bytes += bytes;
    const elapsed = now - this.#windowStart;
    if (elapsed < RATE_WINDOW_MS) return;
    this.#last = (this.#bytes / elapsed) * 1000;
    this.#bytes = 0;
    this.#windowStart = now;
  }

  /** The last full window's rate, or null before one has ended. */
  get bytesPerSecond(): number | null {
    return this.#last;
  }
}
