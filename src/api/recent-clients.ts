/**
 * How many distinct clients did something in the last few seconds: HLS has no sessions, so a
 * viewer is a client (address + User-Agent) that fetched the playlist recently. Bounded: a client
 * that invents a new User-Agent per request can grow the table to `maxClients`, no further. Pure:
 * the clock is passed in.
 */
export class RecentClients {
  /** Client → when last seen; Map order is the order of last sighting (oldest first). */
  readonly #lastSeen = new Map<string, number>();
  readonly #windowMs: number;
  readonly #maxClients: number;

  constructor(options: { windowMs: number; maxClients: number }) {
    this.#windowMs = options.windowMs;
    this.#maxClients = options.maxClients;
  }

  seen(client: string, nowMs: number): void {
    this.#lastSeen.delete(client);
    this.#lastSeen.set(client, nowMs);
    this.#forgetBefore(nowMs - this.#windowMs);
    if (this.#lastSeen.size > this.#maxClients) this.#lastSeen.delete(this.#lastSeen.keys().next().value!);
  }

  count(nowMs: number): number {
    this.#forgetBefore(nowMs - this.#windowMs);
    return this.#lastSeen.size;
  }

  #forgetBefore(cutoffMs: number): void {
    for (const [client, at] of this.#lastSeen) {
      if (at > cutoffMs) break;
      this.#lastSeen.delete(client);
    }
  }
}
