import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import {
  DAILY_JOB,
  DISK_CHECK_JOB,
  describeDailySummary,
  formatBytes,
  formatUptime,
  standardMaintenanceJobs,
} from '../../src/maintenance/jobs.ts';

function capturingLogger() {
  const records: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line)) });
  return { logger, records };
}

const summary = {
  uptimeSeconds: 3 * 86_400 + 4 * 3600 + 5 * 60,
  restarts: 2,
  segmentsServed: 43_200,
  bytesServed: 1.5 * 2 ** 30,
};

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
  });
});

describe('standardMaintenanceJobs', () => {
  it('has a daily job and a disk check every minute, with valid schedules', () => {
    const { logger } = capturingLogger();
    const jobs = standardMaintenanceJobs({
      logger,
      sweepOrphanSegments: async () => {},
      dailySummary: () => summary,
      checkDisk: async () => {},
    });
    assert.deepEqual(
      jobs.map((j) => [j.name, j.schedule]),
      [
        [DAILY_JOB, { dailyAt: '03:17' }],
        [DISK_CHECK_JOB, { everySeconds: 60 }],
      ],
    );
  });

  it('daily job sweeps orphans, then logs the summary as fields and one readable line', async () => {
    const { logger, records } = capturingLogger();
    const calls: string[] = [];
    const [daily, disk] = standardMaintenanceJobs({
      logger,
      sweepOrphanSegments: async () => calls.push('sweep'),
      dailySummary: () => {
        calls.push('summary');
        return summary;
      },
      checkDisk: async () => calls.push('disk'),
    });
    await daily!.run();
    await disk!.run();
    assert.deepEqual(calls, ['sweep', 'summary', 'disk']);
    const line = records.find((r) => r.job === DAILY_JOB);
    assert.ok(line);
    assert.equal(line.msg, describeDailySummary(summary));
    assert.equal(line.module, 'maintenance');
    assert.equal(line.restarts, 2);
    assert.equal(line.bytes_served, summary.bytesServed);
  });

  it('daily job still logs the summary when the sweep fails, then fails', async () => {
    const { logger, records } = capturingLogger();
    const [daily] = standardMaintenanceJobs({
      logger,
      sweepOrphanSegments: async () => {
        throw new Error('EACCES');
      },
      dailySummary: async () => summary,
      checkDisk: async () => {},
    });
    await assert.rejects(daily!.run(), /EACCES/);
    assert.ok(records.some((r) => r.job === DAILY_JOB && r.segments_served === 43_200));
  });
});
