/**
 * RTP timestamps that run on across pipeline runs. Within a run they follow the frames' PTS (both
 * are 90 kHz clocks); a new run continues from the last timestamp sent plus the wall-clock time
 * that passed, so a viewer's jitter buffer sees a pause, never a jump back. Pure: the clock is
 * passed in.
 */
import { PTS_CLOCK_HZ } from '../media/ts-packets.ts';

export const RTP_VIDEO_CLOCK_HZ = PTS_CLOCK_HZ;

export class RtpClock {
  readonly #now: () => number;
  #last: { timestamp: number; wallMs: number } | null = null;
  #run: { base: number; firstPts: number } | null = null;
  readonly #initial: number;

  constructor(initial: number, now: () => number) {
    this.#initial = initial >>> 0;
    this.#now = now;
  }

  /** The next frame starts a new pipeline run. */
  newRun(): void {
    this.#run = null;
  }

  /** The RTP timestamp (uint32) of a wall-clock instant, extrapolated from the last frame (for sender reports). */
  timestampAt(wallMs: number): number {
    if (!this.#last) return this.#initial;
    return (
      (this.#last.timestamp + Math.round(((wallMs - this.#last.wallMs) / 1000) * RTP_VIDEO_CLOCK_HZ)) >>> 0
    );
  }

  /** The RTP timestamp (uint32) of a frame with this PTS (90 kHz, unwrapped). */
  timestampOf(pts: number): number {
    if (!this.#run) {
      const base = this.#last
        ? this.#last.timestamp +
          Math.max(1, Math.round(((this.#now() - this.#last.wallMs) / 1000) * RTP_VIDEO_CLOCK_HZ))
        : this.#initial;
      this.#run = { base, firstPts: pts };
    }
    const timestamp = this.#run.base + Math.max(0, pts - this.#run.firstPts);
    this.#last = { timestamp, wallMs: this.#now() };
    return timestamp >>> 0;
  }
}
