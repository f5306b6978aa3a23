/**
 * When the daily summary runs: a local time "HH:MM". Pure. Plain Date arithmetic, not node-cron:
 * its Intl-based date handling made the supervisor touch ≈ 8 MB more of Node's ICU data
 * (bench/README.md, issue 9's 80 MB budget).
 */

const DAILY_AT = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Why `dailyAt` is unusable, or null when it is fine. */
export function dailyAtProblem(dailyAt: string): string | null {
  return DAILY_AT.test(dailyAt)
    ? null
    : `dailyAt ${JSON.stringify(dailyAt)} is not allowed: use a local time "HH:MM" from 00:00 to 23:59`;
}

/**
 * The first `dailyAt` strictly after `now` (epoch ms). A time that does not exist on a
 * daylight-saving day (02:30 when clocks jump to 03:00) runs when Date puts it (03:30).
 */
export function nextDailyRun(dailyAt: string, now: number): number {
  const [hour, minute] = dailyAt.split(':').map(Number) as [number, number];
  const next = new Date(now);
  next.setHours(hour, minute, 0, 0);
  if (next.getTime() <= now) {
    next.setDate(next.getDate() + 1);
    next.setHours(hour, minute, 0, 0);
  }
  return next.getTime();
}
