/**
 * One summary line a day in the journal (uptime, restarts, what was served), as the earlier
 * system's daily cron job wrote. Segment cleanup and disk pressure need no job here: the HLS
 * publisher handles both itself with every segment (and every 2 s while none comes).
 */
import type { Logger } from '../logger.ts';
import { dailyAtProblem, nextDailyRun } from './schedule.ts';

export interface DailySummary {
  uptimeSeconds: number;
  restarts: number;
  segmentsServed: number;
  bytesServed: number;
}

export interface DailySummaryOptions {
  logger: Logger;
  /** Figures for the line, read when it is due. */
  summary: () => DailySummary;
  /** Local time, default 03:17 (off the hour, away from other daily jobs). */
  dailyAt?: string;
}

export class DailySummaryConfigError extends Error {
  override readonly name = 'DailySummaryConfigError';
}

/** "3d 4h 5m" — coarse on purpose, it is for people reading the journal. Pure. */
export function formatUptime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h ${minutes}m`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return `${minutes}m ${total % 60}s`;
}

/** Binary units: "1.5 GiB". Pure. */
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

/** Pure. */
export function describeDailySummary(summary: DailySummary): string {
  const restarts = summary.restarts === 1 ? '1 restart' : `${summary.restarts} restarts`;
  return (
    `daily summary: up ${formatUptime(summary.uptimeSeconds)}, ${restarts}, ` +
    `${summary.segmentsServed} segments / ${formatBytes(summary.bytesServed)} served`
  );
}

const MAX_WAIT_MS = 3_600_000;

/** Logs the summary every day at `dailyAt` until stop(). */
export function startDailySummary(options: DailySummaryOptions): { stop(): void } {
  const dailyAt = options.dailyAt ?? '03:17';
  const problem = dailyAtProblem(dailyAt);
  if (problem !== null) throw new DailySummaryConfigError(`daily summary: ${problem}`);
  const logger = options.logger.child({ module: 'daily-summary' });
  let timer: NodeJS.Timeout | undefined;

  function log(): void {
    try {
      const summary = options.summary();
      logger.info(
        {
          uptime_seconds: summary.uptimeSeconds,
          restarts: summary.restarts,
          segments_served: summary.segmentsServed,
          bytes_served: summary.bytesServed,
        },
        describeDailySummary(summary),
      );
    } catch (error) {
      logger.error({ err: error }, 'daily summary failed');
    }
  }

  /**
   * Waits in steps of at most an hour, so a wall clock stepped meanwhile (NTP at boot, a
   * suspended kiosk) still gets the line at the right time.
   */
  function schedule(due: number): void {
    timer = setTimeout(
      () => {
        if (Date.now() < due) return schedule(due);
        log();
        schedule(nextDailyRun(dailyAt, Date.now()));
      },
      Math.min(Math.max(0, due - Date.now()), MAX_WAIT_MS),
    );
    timer.unref?.();
  }

  schedule(nextDailyRun(dailyAt, Date.now()));
  return {
    stop() {
      clearTimeout(timer);
    },
  };
}
