/**
 * When may a segment that left the playlist be deleted, and how many segments does the
 * playlist list, given the disk pressure. Pure: times are epoch ms passed in.
 *
 * Policy:
 * - normal   (used < cleanup_threshold_percent): list max_segments; keep a removed segment
 *            for TWICE the RFC 8216 §6.2.2 minimum, which covers slow clients, caches and
 *            clock skew at almost no cost (a few segments).
 * - high     (≥ cleanup_threshold_percent): list max_segments; delete at the RFC minimum.
 * - emergency(≥ emergency_cleanup_threshold_percent): list only emergency_segments; delete at
 *            the RFC minimum (computed from the playlists that really held the segment).
 * - critical (≥ DISK_CRITICAL_PERCENT, the disk is about to be full): as emergency, but every
 *            segment that left the playlist is deleted at once. A stream that keeps playing for
 *            everyone beats RFC retention for a client that is already behind: if the disk
 *            fills, hlssink2 fails and nobody gets anything.
 * Listed segments are never deleted, whatever the pressure.
 */
import type { LiveStreamingConfig } from '../config/schema.ts';
import type { PlaylistEntry } from './playlist.ts';

export type DiskPressure = 'normal' | 'high' | 'emergency' | 'critical';

/** Used space, in percent, from which the disk counts as about to be full. */
export const DISK_CRITICAL_PERCENT = 98;
/** Normal retention is this many times the RFC 8216 §6.2.2 minimum. */
export const NORMAL_RETENTION_FACTOR = 2;

export interface RetainedSegment {
  sequence: number;
  uri: string;
  bytes: number;
  /** epoch ms when it left the playlist */
  removedAt: number;
  /** epoch ms before which RFC 8216 §6.2.2 forbids deleting it */
  earliestDeleteAt: number;
  /** epoch ms when normal retention deletes it */
  deleteAt: number;
}

type Thresholds = Pick<
  LiveStreamingConfig,
  'cleanup_threshold_percent' | 'emergency_cleanup_threshold_percent'
>;

export function classifyDiskPressure(usedPercent: number, thresholds: Thresholds): DiskPressure {
  if (usedPercent >= Math.max(DISK_CRITICAL_PERCENT, thresholds.emergency_cleanup_threshold_percent)) {
    return 'critical';
  }
  if (usedPercent >= thresholds.emergency_cleanup_threshold_percent) return 'emergency';
  if (usedPercent >= thresholds.cleanup_threshold_percent) return 'high';
  return 'normal';
}

/** Segments the playlist lists under this pressure. */
export function windowSize(
  pressure: DiskPressure,
  config: Pick<LiveStreamingConfig, 'max_segments' | 'emergency_segments'>,
): number {
  const normal = Math.max(1, config.max_segments);
  if (pressure === 'emergency' || pressure === 'critical') {
    return Math.max(1, Math.min(normal, config.emergency_segments));
  }
  return normal;
}

/** RFC 8216 §6.2.2: its own duration plus the longest playlist that held it. */
export function rfcMinimumRetentionMs(entry: PlaylistEntry): number {
  return Math.ceil((entry.segment.durationSeconds + entry.longestPlaylistSeconds) * 1000);
}

/** Turn entries that just left the playlist into retained segments with their deadlines. */
export function retire(entries: readonly PlaylistEntry[], now: number): RetainedSegment[] {
  return entries.map((entry) => {
    const minimum = rfcMinimumRetentionMs(entry);
    return {
      sequence: entry.segment.sequence,
      uri: entry.segment.uri,
      bytes: entry.segment.bytes,
      removedAt: now,
      earliestDeleteAt: now + minimum,
      deleteAt: now + minimum * NORMAL_RETENTION_FACTOR,
    };
  });
}

export interface DeletionPlan {
  remove: RetainedSegment[];
  keep: RetainedSegment[];
}

export function planDeletions(
  retained: readonly RetainedSegment[],
  now: number,
  pressure: DiskPressure,
): DeletionPlan {
  const due = (segment: RetainedSegment): boolean => {
    switch (pressure) {
      case 'critical':
        return true;
      case 'emergency':
      case 'high':
        return now >= segment.earliestDeleteAt;
      case 'normal':
        return now >= segment.deleteAt;
    }
  };
  const plan: DeletionPlan = { remove: [], keep: [] };
  for (const segment of retained) (due(segment) ? plan.remove : plan.keep).push(segment);
  return plan;
}
