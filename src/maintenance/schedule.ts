/**
 * When maintenance jobs run: every N seconds (aligned to the wall clock, as cron aligns `* * * * *`
 * to the minute) or daily at a local time. Pure. This replaced node-cron, whose Intl-based date
 * handling made the supervisor touch ≈ 8 MB more of Node's ICU data for two fixed schedules
 * (bench/README.md, issue 9's 80 MB budget); plain Date arithmetic does not.
 */

export type Schedule = { everySeconds: number } | { dailyAt: string };

const DAILY_AT = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Why `schedule` is unusable, or null when it is fine. */
export function scheduleProblem(schedule: Schedule): string | null {
  if ('everySeconds' in schedule) {
    const { everySeconds } = schedule;
    return Number.isInteger(everySeconds) && everySeconds >= 1 && everySeconds <= 86_400
      ? null
      : `everySeconds ${JSON.stringify(everySeconds)} is not allowed: use a whole number of seconds from 1 to 86400`;
  }
  return DAILY_AT.test(schedule.dailyAt)
    ? null
    : `dailyAt ${JSON.stringify(schedule.dailyAt)} is not allowed: use a local time "HH:MM" from 00:00 to 23:59`;
}

export function describeSchedule(schedule: Schedule): string {
  return 'everySeconds' in schedule
    ? `every ${schedule.everySeconds} s`
    : `daily at ${schedule.dailyAt} local time`;
}

/**
 * The first run strictly after `now` (epoch ms). A daily time that does not exist on a
 * daylight-saving day (02:30 when clocks jump to 03:00) runs when Date puts it (03:30).
 */
export function nextRunAfter(schedule: Schedule, now: number): number {
  if ('everySeconds' in schedule) {
    const periodMs = schedule.everySeconds * 1000;
    return (Math.floor(now / periodMs) + 1) * periodMs;
  }
  const [hour, minute] = schedule.dailyAt.split(':').map(Number) as [number, number];
  const next = new Date(now);
  next.setHours(hour, minute, 0, 0);
  if (next.getTime() <= now) {
    next.setDate(next.getDate() + 1);
    next.setHours(hour, minute, 0, 0);
  }
  return next.getTime();
}
