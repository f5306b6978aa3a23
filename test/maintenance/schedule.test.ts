import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { dailyAtProblem, nextDailyRun } from '../../src/maintenance/schedule.ts';

/** A local wall-clock time as epoch ms (the schedule works in the process's time zone). */
const local = (y: number, mo: number, d: number, h: number, mi: number, s = 0, ms = 0) =>
  new Date(y, mo - 1, d, h, mi, s, ms).getTime();

describe('nextDailyRun', () => {
  it('dailyAt: later today, else tomorrow at the same local time (never now itself)', () => {
    const daily = '03:17';
    assert.equal(nextDailyRun(daily, local(2026, 11, 30, 1, 0)), local(2026, 11, 30, 3, 17));
    assert.equal(nextDailyRun(daily, local(2026, 11, 30, 3, 17)), local(2026, 12, 1, 3, 17));
    assert.equal(nextDailyRun(daily, local(2026, 12, 31, 23, 59)), local(2027, 1, 1, 3, 17));
    assert.equal(nextDailyRun('00:00', local(2028, 2, 28, 12, 0)), local(2028, 2, 29, 0, 0));
  });
});

describe('nextDailyRun in a time zone with daylight saving (Europe/Berlin, a child process)', () => {
  it('keeps the local time across the change, and a time that does not exist runs an hour later', () => {
    const script = `
      import { nextDailyRun } from './src/maintenance/schedule.ts';
      const at = (iso, dailyAt) => new Date(nextDailyRun(dailyAt, Date.parse(iso))).toISOString();
      console.log(JSON.stringify([
        at('2026-03-28T12:00:00Z', '03:17'),
        at('2026-03-29T00:00:00Z', '02:30'),
        at('2026-10-24T12:00:00Z', '03:17'),
      ]));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      env: { ...process.env, TZ: 'Europe/Berlin' },
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(out), [
      '2026-03-29T01:17:00.000Z', // 03:17 CEST (UTC+2), the night the clocks go forward
      '2026-03-29T01:30:00.000Z', // 02:30 does not exist that night: 03:30 CEST
      '2026-10-25T02:17:00.000Z', // 03:17 CET (UTC+1), the night the clocks go back
    ]);
  });
});

describe('dailyAtProblem', () => {
  it('accepts HH:MM and names what is wrong otherwise', () => {
    assert.equal(dailyAtProblem('23:59'), null);
    assert.equal(dailyAtProblem('00:00'), null);
    assert.match(dailyAtProblem('3:17') ?? '', /dailyAt "3:17" is not allowed: use a local time "HH:MM"/);
    assert.match(dailyAtProblem('12:60') ?? '', /"12:60"/);
    assert.match(dailyAtProblem('24:00') ?? '', /"24:00"/);
  });
});
