/**
 * Host CPU, memory and network counters straight from the kernel's /proc text: pure parsers plus
 * thin readers with portable fallbacks. The supervisor runs beside a kiosk app and is scraped
 * every few seconds, so these readings must not spawn processes: systeminformation, used here
 * before, shells out to `cat | grep` for CPU and per interface for network on every call, and
 * loading it cost ≈ 11 MB of resident memory (bench/README.md).
 */
import os from 'node:os';
import path from 'node:path';
import { readProcFile } from './procfs.ts';

/** Cumulative CPU time of all CPUs, in any one unit (USER_HZ ticks or ms). */
export interface CpuTimes {
  /** Time spent neither running nor waiting for I/O. */
  idle: number;
  total: number;
}

/** The aggregate `cpu` line of /proc/stat; null when it is absent or malformed. Pure. */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return null;
  // user nice system idle iowait irq softirq steal [guest guest_nice: already inside user/nice]
  const counted = fields.slice(0, 8);
  const idle = (counted[3] ?? 0) + (counted[4] ?? 0);
  return { idle, total: counted.reduce((sum, n) => sum + n, 0) };
}

/** Busy share 0–1 of the CPU time between two readings; 0 when no time passed. Pure. */
export function busyRatio(previous: CpuTimes, current: CpuTimes): number {
  const total = current.total - previous.total;
  if (!(total > 0)) return 0;
  const busy = total - (current.idle - previous.idle);
  return Math.min(1, Math.max(0, busy / total));
}

/** /proc/stat's totals, or os.cpus() where /proc is unreadable (other kernels). */
export async function readCpuTimes(procRoot = '/proc'): Promise<CpuTimes> {
  try {
    const times = parseProcStat(readProcFile(path.join(procRoot, 'stat')));
    if (times) return times;
  } catch {
    // fall through to the portable reading
  }
  let idle = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

export interface NetDevCounters {
  device: string;
  receiveBytes: number;
  transmitBytes: number;
}

/** Byte counters per interface from /proc/net/dev (two header lines, then `name: rx… tx…`). Pure. */
export function parseNetDev(text: string): NetDevCounters[] {
  const counters: NetDevCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const device = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    const receiveBytes = fields[0];
    const transmitBytes = fields[8];
    if (!device || receiveBytes === undefined || transmitBytes === undefined) continue;
    if (!Number.isFinite(receiveBytes) || !Number.isFinite(transmitBytes)) continue;
    counters.push({ device, receiveBytes, transmitBytes });
  }
  return counters;
}

/** Network byte counters of every interface the kernel lists. */
export async function readNetDev(procRoot = '/proc'): Promise<NetDevCounters[]> {
  return parseNetDev(readProcFile(path.join(procRoot, 'net', 'dev')));
}

export interface MemoryReading {
  totalBytes: number;
  /** MemAvailable: what can be given to new work without swapping (as `free` counts it). */
  availableBytes: number;
}

/** MemTotal and MemAvailable of /proc/meminfo; null when either is missing. Pure. */
export function parseMeminfo(text: string): MemoryReading | null {
  const kiB = (key: string) => {
    const match = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : null;
  };
  const totalBytes = kiB('MemTotal');
  const availableBytes = kiB('MemAvailable');
  if (!totalBytes || availableBytes === null) return null;
  return { totalBytes, availableBytes };
}

/** /proc/meminfo, or os.totalmem()/os.freemem() where it is unreadable (other kernels). */
export async function readMemory(procRoot = '/proc'): Promise<MemoryReading> {
  try {
    const memory = parseMeminfo(readProcFile(path.join(procRoot, 'meminfo')));
    if (memory) return memory;
  } catch {
    // fall through to the portable reading
  }
  return { totalBytes: os.totalmem(), availableBytes: os.freemem() };
}

/** Used memory in percent, one decimal (MemTotal − MemAvailable, as `free` counts it). */
export async function systemMemoryPercent(procRoot = '/proc'): Promise<number> {
  const { totalBytes, availableBytes } = await readMemory(procRoot);
  return Math.round((1000 * (totalBytes - availableBytes)) / totalBytes) / 10;
}
