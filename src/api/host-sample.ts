import { readFile, statfs } from 'node:fs/promises';
import path from 'node:path';
import { busyRatio, type CpuTimes, readCpuTimes, readMemory } from '../system/proc-host.ts';

/**
 * Host and process readings for /api/health and /api/status, read when asked for.
 * Linux first (/proc), with portable fallbacks; every reading degrades to null, never throws.
 */

/** Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS); null if unreadable. */
export async function processRssBytes(pid: number, procRoot = '/proc'): Promise<number | null> {
  try {
    const status = await readFile(path.join(procRoot, String(pid), 'status'), 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Used memory in percent (MemTotal − MemAvailable, as `free` counts it). */
export async function systemMemoryPercent(procRoot = '/proc'): Promise<number> {
  const { totalBytes, availableBytes } = await readMemory(procRoot);
  return round1((100 * (totalBytes - availableBytes)) / totalBytes);
}

/** Used space in percent of the filesystem holding `dir` (like df: used / (used + available to users)). */
export async function diskUsagePercent(dir: string): Promise<number | null> {
  let probe = path.resolve(dir);
  for (;;) {
    try {
      const stats = await statfs(probe);
      const used = (stats.blocks - stats.bfree) * stats.bsize;
      const usable = used + stats.bavail * stats.bsize;
      return usable > 0 ? round1((100 * used) / usable) : 0;
    } catch {
      const parent = path.dirname(probe);
      if (parent === probe) return null;
      probe = parent; // output_dir may not exist yet: report its nearest existing ancestor's filesystem
    }
  }
}

interface TimedCpuTimes extends CpuTimes {
  at: number;
}

/**
 * Host CPU busy percent since the previous reading. A reading younger than a second is reused
 * (so rapid polls neither wait nor measure over a meaningless interval); without a usable
 * previous reading (first call, or one older than a minute) it measures over a short interval.
 */
export class CpuSampler {
  #previous: TimedCpuTimes | null = null;
  #last: { at: number; percent: number } | null = null;
  readonly #intervalMs: number;

  constructor(intervalMs = 200) {
    this.#intervalMs = intervalMs;
  }

  async percent(): Promise<number> {
    const now = Date.now();
    if (this.#last !== null && now - this.#last.at < 1000) return this.#last.percent;
    let previous = this.#previous;
    if (previous === null || now - previous.at > 60_000) {
      previous = await timedCpuTimes();
      await new Promise((resolve) => setTimeout(resolve, this.#intervalMs));
    }
    const current = await timedCpuTimes();
    const percent = round1(100 * busyRatio(previous, current));
    this.#previous = current;
    this.#last = { at: current.at, percent };
    return percent;
  }
}

async function timedCpuTimes(): Promise<TimedCpuTimes> {
  return { ...(await readCpuTimes()), at: Date.now() };
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
