/**
 * Whether some viewer needs each frame the moment the pipeline makes it. A Low-Latency HLS client
 * (blocking playlist reloads, parts) or a WebRTC viewer does. A plain-HLS player fetches whole
 * segments seconds later, and with no viewer nobody needs anything at once: then the supervisor
 * drains the media FIFO on a timer instead of waking up for every frame
 * (src/pipeline/media-fifo.ts; bench/intake-cadence.ts has the cost of each way).
 */

/**
 * How long a Low-Latency HLS request keeps every frame wanted. A player in low-latency mode
 * sends one at least every part while it plays; a blocking reload may wait three target
 * durations (6 s at the default segment length) before it returns.
 */
export const LOW_LATENCY_LINGER_MS = 10_000;

export interface FrameDemandOptions {
  /** epoch ms; default Date.now */
  now?: () => number;
  /** Connected WebRTC viewers; absent when WebRTC is off. */
  realtimeViewers?: () => number;
}

export class FrameDemand {
  readonly #now: () => number;
  readonly #realtimeViewers: () => number;
  #lastLowLatencyRequestAt = Number.NEGATIVE_INFINITY;

  constructor(options: FrameDemandOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#realtimeViewers = options.realtimeViewers ?? (() => 0);
  }

  /** A Low-Latency HLS request (a blocking reload or a part) came in just now. */
  noteLowLatencyRequest(): void {
    this.#lastLowLatencyRequestAt = this.#now();
  }

  everyFrame(): boolean {
    return this.#realtimeViewers() > 0 || this.#now() - this.#lastLowLatencyRequestAt < LOW_LATENCY_LINGER_MS;
  }
}
