/**
 * CPU time and memory of a process from /proc (Linux only). CPU is utime + stime of the process
 * itself (all its threads), in seconds; children are not included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** USER_HZ: the unit of /proc/<pid>/stat times. 100 on every Linux this runs on (getconf CLK_TCK). */
export const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

export interface ProcSample {
  pid: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
  rssBytes: number;
  threads: number;
  /** Wall clock of the read, ms (performance.now()). */
  atMs: number;
}

export class ProcReadError extends Error {
  override name = 'ProcReadError';
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
export function parseStat(text: string): {
  utimeTicks: number;
  stimeTicks: number;
  threads: number;
  rssPages: number;
} {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const field = (n: number) => Number(rest[n - 3]);
  return { utimeTicks: field(14), stimeTicks: field(15), threads: field(20), rssPages: field(24) };
}

export function readProc(pid: number): ProcSample {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    throw new ProcReadError(`cannot read /proc/${pid}/stat (process gone?)`, { cause: error });
  }
  const stat = parseStat(text);
  return {
    pid,
    cpuSeconds: (stat.utimeTicks + stat.stimeTicks) / CLOCK_TICKS_PER_SECOND,
    rssBytes: stat.rssPages * PAGE_BYTES,
    threads: stat.threads,
    atMs: performance.now(),
  };
}

/** Same as readProc, null when the process is gone. */
export function tryReadProc(pid: number): ProcSample | null {
  try {
    return readProc(pid);
  } catch {
    return null;
  }
}

/** Load averages (1, 5, 15 min) — the "what else was running" of each figure. */
export function loadAverage(): [number, number, number] {
  const parts = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [parts[0] ?? Number.NaN, parts[1] ?? Number.NaN, parts[2] ?? Number.NaN];
}

/** Whole-machine busy CPU seconds (all cores) from /proc/stat, to tell how busy the box was. */
export function machineBusySeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, v) => sum + v, 0);
  return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}

/** pids whose parent is `pid` (scans /proc). */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Summed CPU seconds of several pids (those still there). */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (tryReadProc(pid)?.cpuSeconds ?? 0), 0);
}

/**
 * Sets the nice value of `pid` and of its descendants now running (processes it starts later
 * inherit it). Used by the benches' --nice option so that, on a shared machine whose load is
 * far above its core count, the measured processes are not simply starved by their neighbours.
 * Returns the pids changed.
 */
export function setNiceTree(pid: number, nice: number): number[] {
  const changed: number[] = [];
  const visit = (p: number) => {
    try {
      setPriority(p, nice);
      changed.push(p);
    } catch {
      // gone meanwhile
    }
    for (const child of childPids(p)) visit(child);
  };
  visit(pid);
  return changed;
}
