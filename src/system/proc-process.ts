/**
 * One process's CPU time, resident memory and threads from /proc/<pid>/{stat,status}: pure
 * parsers plus thin readers (the gst child's metrics, the supervisor's and child's RSS in /api/health).
 */
import { join } from 'node:path';
import { readProcFile } from './procfs.ts';

/** Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every mainstream architecture). */
export const CLOCK_TICKS_PER_SECOND = 100;

export class ProcParseError extends Error {
  override readonly name = 'ProcParseError';
}

export interface ProcessStats {
  /** user + system CPU time, seconds */
  cpuSeconds: number;
  residentBytes: number;
  threads: number;
}

/** utime + stime from /proc/<pid>/stat, in clock ticks. The comm field may hold spaces and parentheses. */
export function parseStatCpuTicks(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close < 0)
    throw new ProcParseError(`/proc/<pid>/stat: no ")" after comm in ${JSON.stringify(stat.slice(0, 80))}`);
  // Fields after comm start with field 3 (state); utime and stime are fields 14 and 15.
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new ProcParseError(`/proc/<pid>/stat: utime/stime are not numbers (${fields[11]}, ${fields[12]})`);
  }
  return utime + stime;
}

/** VmRSS of /proc/<pid>/status in bytes; null when absent (a zombie has none). Pure. */
export function parseVmRssBytes(status: string): number | null {
  const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return rss ? Number(rss[1]) * 1024 : null;
}

/** VmRSS (bytes) and Threads from /proc/<pid>/status. VmRSS is absent for zombies: 0 then. */
export function parseStatus(status: string): { residentBytes: number; threads: number } {
  const threads = /^Threads:\s+(\d+)$/m.exec(status);
  if (!threads) throw new ProcParseError('/proc/<pid>/status: no "Threads:" line');
  return { residentBytes: parseVmRssBytes(status) ?? 0, threads: Number(threads[1]) };
}

/** Resident memory of a process in bytes; null when it is gone, unreadable or a zombie. */
export async function processRssBytes(pid: number, procRoot = '/proc'): Promise<number | null> {
  try {
    return parseVmRssBytes(readProcFile(join(procRoot, String(pid), 'status')));
  } catch {
    return null;
  }
}

/** Reads a process's CPU time, RSS and threads; null when the process is gone. */
export async function readProcessStats(
  procRoot: string,
  pid: number,
  clockTicksPerSecond = CLOCK_TICKS_PER_SECOND,
): Promise<ProcessStats | null> {
  const dir = join(procRoot, String(pid));
  let stat: string;
  let status: string;
  try {
    stat = readProcFile(join(dir, 'stat'));
    status = readProcFile(join(dir, 'status'));
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ESRCH'
    ) {
      return null;
    }
    throw error;
  }
  return { cpuSeconds: parseStatCpuTicks(stat) / clockTicksPerSecond, ...parseStatus(status) };
}
