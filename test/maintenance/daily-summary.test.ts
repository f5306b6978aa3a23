import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import {
  type DailySummary,
  DailySummaryConfigError,
  describeDailySummary,
  formatBytes,
  formatUptime,
  startDailySummary,
} from '../../src/maintenance/daily-summary.ts';

function capturingLogger() {
  const records: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line)) });
  return { logger, records };
}

const summary: DailySummary = {
  uptimeSeconds: 3 * 86_400 + 4 * 3600 + 5 * 60,
  restarts: 2,
  segmentsServed: 43_200,
  bytesServed: 1.5 * 2 ** 30,
};

/** A local wall-clock time as epoch ms (the schedule works in the process's time zone). */
const local = (y: number, mo: number, d: number, h: number, mi: number) =>
  new Date(y, mo - 1, d, h, mi).getTime();

function mockClock(t: TestContext, now: number) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now });
}

describe('formatting', () => {
  it('formats uptime and bytes for people', () => {
    assert.equal(formatUptime(summary.uptimeSeconds), '3d 4h 5m');
    assert.equal(formatUptime(3725), '1h 2m');
    assert.equal(formatUptime(65), '1m 5s');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1.5 * 2 ** 30), '1.5 GiB');
    assert.equal(
      describeDailySummary(summary),
      'daily summary: up 3d 4h 5m, 2 restarts, 43200 segments / 1.5 GiB served',
    );
    assert.match(describeDailySummary({ ...summary, restarts: 1 }), / 1 restart, /);
  });
});

describe('startDailySummary', () => {
  it('logs one line at 03:17 local time each day, as fields and a readable message, until stopped', (t) => {
    mockClock(t, local(2026, 11, 30, 1, 0));
    const { logger, records } = capturingLogger();
    let reads = 0;
    const daily = startDailySummary({
      logger,
      summary: () => {
        reads += 1;
        return summary;
      },
    });
    t.mock.timers.tick(local(2026, 11, 30, 3, 17) - local(2026, 11, 30, 1, 0) - 1);
    assert.equal(reads, 0, 'not before 03:17');
    t.mock.timers.tick(1);
    assert.equal(reads, 1);
    const [line] = records;
    assert.equal(line?.msg, describeDailySummary(summary));
    assert.equal(line?.module, 'daily-summary');
    assert.equal(line?.restarts, 2);
    assert.equal(line?.bytes_served, summary.bytesServed);
    t.mock.timers.tick(24 * 3_600_000);
    assert.equal(reads, 2, 'the next day');
    daily.stop();
    t.mock.timers.tick(48 * 3_600_000);
    assert.equal(reads, 2, 'stopped');
  });

  it('a wall clock stepped forward meanwhile (NTP at boot) still gets the line, within one hour-step', (t) => {
    mockClock(t, local(2026, 11, 30, 1, 0));
    const { logger, records } = capturingLogger();
    const daily = startDailySummary({ logger, summary: () => summary, dailyAt: '03:17' });
    t.after(() => daily.stop());
    // Without the step, the first hour-step (02:00) is before 03:17: nothing yet.
    // The clock jumps to 03:16 meanwhile; that step ends at 04:16 by the new clock, past due.
    t.mock.timers.setTime(local(2026, 11, 30, 3, 16));
    t.mock.timers.tick(3_600_000);
    assert.equal(records.length, 1);
    t.mock.timers.tick(23 * 3_600_000); // 03:16 the next day
    assert.equal(records.length, 1);
    t.mock.timers.tick(60_000);
    assert.equal(records.length, 2, 'and the next day at 03:17');
  });

  it('a failing summary is logged as an error and the schedule goes on', (t) => {
    mockClock(t, local(2026, 11, 30, 3, 0));
    const { logger, records } = capturingLogger();
    let fail = true;
    const daily = startDailySummary({
      logger,
      summary: () => {
        if (fail) throw new Error('snapshot unavailable');
        return summary;
      },
    });
    t.after(() => daily.stop());
    t.mock.timers.tick(17 * 60_000);
    assert.equal(records[0]?.msg, 'daily summary failed');
    assert.equal((records[0]?.err as { message?: string } | undefined)?.message, 'snapshot unavailable');
    fail = false;
    t.mock.timers.tick(24 * 3_600_000);
    assert.equal(records[1]?.msg, describeDailySummary(summary));
  });

  it('rejects a bad time naming it and what is allowed', () => {
    const { logger } = capturingLogger();
    assert.throws(
      () => startDailySummary({ logger, summary: () => summary, dailyAt: '3:17' }),
      (error: unknown) =>
        error instanceof DailySummaryConfigError &&
        /dailyAt "3:17" is not allowed: use a local time "HH:MM" from 00:00 to 23:59/.test(error.message),
    );
  });
});
