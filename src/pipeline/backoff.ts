/**
 * Restart pacing (pure): the first restart is fast, the following ones back off exponentially up
 * to `restart_delay`; a pipeline that streamed steadily for a while earns a fresh start.
 */

export interface BackoffOptions {
  /** Delay of the first restart after a healthy run, in seconds. */
  firstDelaySeconds: number;
  /** The cap (config restart_delay), in seconds. */
  maxDelaySeconds: number;
  /** Streaming this long without trouble resets the backoff. */
  healthyAfterSeconds: number;
}

export class Backoff {
  readonly #options: BackoffOptions;
  #consecutiveFailures = 0;

  constructor(options: BackoffOptions) {
    this.#options = options;
  }

  /** Seconds to wait before the next restart; counts the failure. */
  nextDelaySeconds(): number {
    const { firstDelaySeconds, maxDelaySeconds } = this.#options;
    const delay = this.#consecutiveFailures === 0 ? firstDelaySeconds : 2 ** (this.#consecutiveFailures - 1);
    this.#consecutiveFailures++;
    return Math.min(maxDelaySeconds, Math.max(firstDelaySeconds, delay));
  }

  /** The pipeline has been streaming for `seconds`; resets the backoff once that is long enough. */
  noteHealthy(seconds: number): void {
    if (seconds >= this.#options.healthyAfterSeconds) this.#consecutiveFailures = 0;
  }

  reset(): void {
    this.#consecutiveFailures = 0;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }
}

/** Timestamps within a sliding window (restart budget, error burst). Pure apart from the `now` it is given. */
export class SlidingWindow {
  readonly #windowMs: number;
  #times: number[] = [];

  constructor(windowSeconds: number) {
    this.#windowMs = windowSeconds * 1000;
  }

  /** Record an event at `now`; returns how many fall within the window. */
  add(now: number): number {
    this.#times.push(now);
    return this.count(now);
  }

  count(now: number): number {
    this.#times = this.#times.filter((t) => now - t < this.#windowMs);
    return this.#times.length;
  }

  clear(): void {
    this.#times = [];
  }
}
