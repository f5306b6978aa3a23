/**
 * The supervisor's standard maintenance jobs. What they act on comes in as callbacks
 * (the HLS publisher's cleanup, the supervisor's counters), so this module knows
 * nothing about those components.
 */
import type { Logger } from '../logger.ts';
import type { Schedule } from './schedule.ts';
import type { MaintenanceJob } from './scheduler.ts';

export interface DailySummary {
  uptimeSeconds: number;
  restarts: number;
  segmentsServed: number;
  bytesServed: number;
}

export interface StandardJobsOptions {
  logger: Logger;
  /** Removes segment files that no playlist refers to any more (e.g. `hls.cleanup()`). */
  sweepOrphanSegments: () => Promise<unknown>;
  /** Figures for the daily log line. */
  dailySummary: () => DailySummary | Promise<DailySummary>;
  /** Checks the output filesystem (e.g. emergency retention above the threshold). */
  checkDisk: () => Promise<unknown>;
  /** Default 03:17 local time every day (off the hour, away from other daily jobs). */
  dailySchedule?: Schedule;
  /** Default every minute. */
  diskCheckSchedule?: Schedule;
}

export const DAILY_JOB = 'daily';
export const DISK_CHECK_JOB = 'disk_check';

/** "3d 4h 5m" — coarse on purpose, it is for people reading the journal. */
export function formatUptime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h ${minutes}m`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return `${minutes}m ${total % 60}s`;
}

/** Binary units: "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function describeDailySummary(summary: DailySummary): string {
  const restarts = summary.restarts === 1 ? '1 restart' : `${summary.restarts} restarts`;
  return (
    `daily summary: up ${formatUptime(summary.uptimeSeconds)}, ${restarts}, ` +
    `${summary.segmentsServed} segments / ${formatBytes(summary.bytesServed)} served`
  );
}

export function standardMaintenanceJobs(options: StandardJobsOptions): MaintenanceJob[] {
  const logger = options.logger.child({ module: 'maintenance' });
  return [
    {
      name: DAILY_JOB,
      schedule: options.dailySchedule ?? { dailyAt: '03:17' },
      async run() {
        // The summary is logged even when the sweep fails; the failure still counts.
        let sweepError: unknown = null;
        try {
          await options.sweepOrphanSegments();
        } catch (error) {
          sweepError = error ?? new Error('orphan sweep failed');
        }
        const summary = await options.dailySummary();
        logger.info(
          {
            job: DAILY_JOB,
            uptime_seconds: summary.uptimeSeconds,
            restarts: summary.restarts,
            segments_served: summary.segmentsServed,
            bytes_served: summary.bytesServed,
          },
          describeDailySummary(summary),
        );
        if (sweepError !== null) throw sweepError;
      },
    },
    {
      name: DISK_CHECK_JOB,
      schedule: options.diskCheckSchedule ?? { everySeconds: 60 },
      async run() {
        await options.checkDisk();
      },
    },
  ];
}
