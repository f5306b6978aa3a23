/**
 * Host CPU busy share between two readings of /proc/stat (src/system/proc-host.ts). One sampler
 * serves both readers: the health API (which may be polled rapidly, or after a long silence) and
 * the host metrics collector (busy since the previous scrape).
 */
import { busyRatio, type CpuTimes, readCpuTimes } from './proc-host.ts';

export interface CpuSamplerOptions {
  /** Where readings come from; default /proc/stat (os.cpus() where it is unreadable). */
  readTimes?: () => Promise<CpuTimes>;
  /** Epoch ms; tests inject a clock. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Without a usable previous reading, measure over this interval. */
  intervalMs?: number;
  /** A result younger than this is returned again instead of measuring over a meaningless interval. */
  reuseMs?: number;
  /** A previous reading older than this is not used: the busy share over hours says little. */
  maxAgeMs?: number;
}

interface Reading {
  times: CpuTimes;
  at: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CpuSampler {
  readonly #readTimes: () => Promise<CpuTimes>;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #intervalMs: number;
  readonly #reuseMs: number;
  readonly #maxAgeMs: number;
  #previous: Promise<Reading> | null = null;
  #last: { at: number; ratio: number } | null = null;

  constructor(options: CpuSamplerOptions = {}) {
    this.#readTimes = options.readTimes ?? (() => readCpuTimes());
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#intervalMs = options.intervalMs ?? 200;
    this.#reuseMs = options.reuseMs ?? 1000;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
  }

  /** Takes a reading now, so that the first busyRatio() measures from here without waiting. */
  prime(): this {
    this.#previous = this.#read();
    return this;
  }

  /** Busy share 0–1 of all CPUs since the previous reading. */
  async busyRatio(): Promise<number> {
    const now = this.#now();
    if (this.#last !== null && now - this.#last.at < this.#reuseMs) return this.#last.ratio;
    let previous = this.#previous === null ? null : await this.#previous;
    if (previous === null || now - previous.at > this.#maxAgeMs) {
      previous = await this.#read();
      await this.#sleep(this.#intervalMs);
    }
    const current = this.#read();
    this.#previous = current;
    const reading = await current;
    const ratio = busyRatio(previous.times, reading.times);
    this.#last = { at: reading.at, ratio };
    return ratio;
  }

  /** Busy percent 0–100, one decimal (as /api/status reports it). */
  async percent(): Promise<number> {
    return Math.round(1000 * (await this.busyRatio())) / 10;
  }

  async #read(): Promise<Reading> {
    const times = await this.#readTimes();
    return { times, at: this.#now() };
  }
}
