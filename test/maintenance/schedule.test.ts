import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { describeSchedule, nextRunAfter, scheduleProblem } from '../../src/maintenance/schedule.ts';

/** A local wall-clock time as epoch ms (the schedule works in the process's time zone). */
const local = (y: number, mo: number, d: number, h: number, mi: number, s = 0, ms = 0) =>
  new Date(y, mo - 1, d, h, mi, s, ms).getTime();

describe('nextRunAfter', () => {
  it('everySeconds: the next multiple of the period on the wall clock, strictly after now', () => {
    const minute = { everySeconds: 60 };
    assert.equal(nextRunAfter(minute, Date.UTC(2026, 10, 30, 12, 0, 0, 0)), Date.UTC(2026, 10, 30, 12, 1));
    assert.equal(nextRunAfter(minute, Date.UTC(2026, 10, 30, 12, 0, 59, 999)), Date.UTC(2026, 10, 30, 12, 1));
    assert.equal(nextRunAfter({ everySeconds: 1 }, 1_000_500), 1_001_000);
  });

  it('dailyAt: later today, else tomorrow at the same local time (never now itself)', () => {
    const daily = { dailyAt: '03:17' };
    assert.equal(nextRunAfter(daily, local(2026, 11, 30, 1, 0)), local(2026, 11, 30, 3, 17));
    assert.equal(nextRunAfter(daily, local(2026, 11, 30, 3, 17)), local(2026, 12, 1, 3, 17));
    assert.equal(nextRunAfter(daily, local(2026, 12, 31, 23, 59)), local(2027, 1, 1, 3, 17));
    assert.equal(nextRunAfter({ dailyAt: '00:00' }, local(2028, 2, 28, 12, 0)), local(2028, 2, 29, 0, 0));
  });
});

describe('nextRunAfter in a time zone with daylight saving (Europe/Berlin, a child process)', () => {
  it('keeps the local time across the change, and a time that does not exist runs an hour later', () => {
    const script = `
      import { nextRunAfter } from './src/maintenance/schedule.ts';
      const at = (iso, dailyAt) => new Date(nextRunAfter({ dailyAt }, Date.parse(iso))).toISOString();
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

describe('scheduleProblem / describeSchedule', () => {
  it('accepts whole seconds 1..86400 and HH:MM, and names what is wrong otherwise', () => {
    assert.equal(scheduleProblem({ everySeconds: 60 }), null);
    assert.equal(scheduleProblem({ dailyAt: '23:59' }), null);
    assert.match(scheduleProblem({ everySeconds: 0 }) ?? '', /everySeconds 0 is not allowed/);
    assert.match(scheduleProblem({ everySeconds: 86_401 }) ?? '', /from 1 to 86400/);
    assert.match(
      scheduleProblem({ dailyAt: '3:17' }) ?? '',
      /dailyAt "3:17" is not allowed: use a local time "HH:MM"/,
    );
    assert.match(scheduleProblem({ dailyAt: '12:60' }) ?? '', /"12:60"/);
    assert.equal(describeSchedule({ everySeconds: 60 }), 'every 60 s');
    assert.equal(describeSchedule({ dailyAt: '03:17' }), 'daily at 03:17 local time');
  });
});
