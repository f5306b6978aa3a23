/**
 * Filesystem usage from statfs(2), for the HLS publisher's disk pressure, /api/status and the
 * host metrics: one reading, the same arithmetic as `df` (reserved blocks count as used).
 */
import { realpath, statfs } from 'node:fs/promises';
import path from 'node:path';
import { readProcFile } from './procfs.ts';

export interface FilesystemUsage {
  sizeBytes: number;
  /** Available to unprivileged users (statfs f_bavail). */
  availBytes: number;
  /** used / (used + available to users), 0–100, unrounded. */
  usedPercent: number;
}

export interface StatfsFields {
  blocks: number;
  bfree: number;
  bavail: number;
  bsize: number;
}

/** Pure. */
export function usageFromStatfs(stats: StatfsFields): FilesystemUsage {
  const used = stats.blocks - stats.bfree;
  const usable = used + stats.bavail;
  return {
    sizeBytes: stats.blocks * stats.bsize,
    availBytes: stats.bavail * stats.bsize,
    usedPercent: usable > 0 ? (used / usable) * 100 : 0,
  };
}

/** Usage of the filesystem holding `dir`, which must exist. */
export async function statfsUsage(dir: string): Promise<FilesystemUsage> {
  return usageFromStatfs(await statfs(dir));
}

/** `file`'s real path, or that of its nearest existing ancestor (output_dir may not exist yet). */
export async function nearestExistingRealPath(file: string): Promise<string> {
  let current = path.resolve(file);
  for (;;) {
    try {
      return await realpath(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) throw error;
      current = parent;
    }
  }
}

/** Used percent (one decimal) of the filesystem holding `dir` or its nearest existing ancestor; null if unreadable. */
export async function diskUsagePercent(dir: string): Promise<number | null> {
  try {
    const { usedPercent } = await statfsUsage(await nearestExistingRealPath(dir));
    return Math.round(usedPercent * 10) / 10;
  } catch {
    return null;
  }
}

/** Decodes the octal escapes (\040 = space) of /proc/self/mounts. Pure. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The mount point in /proc/self/mounts content that holds `file` (longest prefix). Pure. */
export function mountpointOf(mounts: string, file: string): string {
  let best = '/';
  for (const line of mounts.split('\n')) {
    const field = line.split(' ')[1];
    if (!field) continue;
    const mountpoint = unescapeMountField(field);
    const inside =
      file === mountpoint || file.startsWith(mountpoint.endsWith('/') ? mountpoint : `${mountpoint}/`);
    if (inside && mountpoint.length > best.length) best = mountpoint;
  }
  return best;
}

export interface FilesystemReading extends FilesystemUsage {
  mountpoint: string;
}

/** /proc/self/mounts, or '' where it is unreadable (every file then counts as on "/"). */
function readMounts(procRoot: string): string {
  try {
    return readProcFile(path.join(procRoot, 'self', 'mounts'));
  } catch {
    return '';
  }
}

/** The filesystem holding `file` (or its nearest existing ancestor) with its mount point. */
export async function filesystemOf(file: string, procRoot = '/proc'): Promise<FilesystemReading> {
  const existing = await nearestExistingRealPath(file);
  const usage = await statfsUsage(existing);
  return { mountpoint: mountpointOf(readMounts(procRoot), existing), ...usage };
}
