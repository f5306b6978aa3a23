/**
 * Host CPU and network counters straight from the kernel's /proc text: pure parsers plus thin
 * readers. The supervisor runs beside a kiosk app and is scraped every few seconds, so these
 * readings must not spawn processes (systeminformation's currentLoad and networkStats shell out
 * to `cat | grep` on every call, which was the largest steady cost of a scrape).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

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
    const times = parseProcStat(await readFile(path.join(procRoot, 'stat'), 'utf8'));
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
  return parseNetDev(await readFile(path.join(procRoot, 'net', 'dev'), 'utf8'));
}
