import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import {
  createMaintenance,
  MaintenanceConfigError,
  MaintenanceJobError,
} from '../../src/maintenance/scheduler.ts';

const silent = pino({ level: 'silent' });
const EVERY_SECOND = { everySeconds: 1 };

async function sample(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  assert.ok(metric, `${name} is registered`);
  const found = metric.values.find((v) =>
    Object.entries(labels).every(([key, value]) => v.labels[key] === value),
  );
  assert.ok(found, `${name}${JSON.stringify(labels)} exists`);
  return found.value;
}

/** A job that records how many runs of it are in progress at once. */
function slowJob(durationMs: number) {
  const state = { running: 0, maxRunning: 0, starts: 0 };
  return {
    state,
    run: async () => {
      state.starts += 1;
      state.running += 1;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      await sleep(durationMs);
      state.running -= 1;
    },
  };
}

describe('createMaintenance', () => {
  it('rejects a bad schedule or name, naming the job and the value', () => {
    const registry = new Registry();
    assert.throws(
      () =>
        createMaintenance({
          logger: silent,
          registry,
          jobs: [{ name: 'daily', schedule: { dailyAt: '24:00' }, run: async () => {} }],
        }),
      (error: unknown) =>
        error instanceof MaintenanceConfigError &&
        error.message.includes('daily') &&
        error.message.includes('"24:00"') &&
        error.message.includes('"HH:MM"'),
    );
    assert.throws(
      () =>
        createMaintenance({
          logger: silent,
          registry: new Registry(),
          jobs: [{ name: 'disk_check', schedule: { everySeconds: 0.5 }, run: async () => {} }],
        }),
      /disk_check: everySeconds 0\.5 is not allowed: use a whole number of seconds from 1 to 86400/,
    );
    assert.throws(
      () =>
        createMaintenance({
          logger: silent,
          registry: new Registry(),
          jobs: [{ name: 'Disk Check', schedule: { everySeconds: 60 }, run: async () => {} }],
        }),
      MaintenanceConfigError,
    );
    // Names as main.ts uses them.
    createMaintenance({
      logger: silent,
      registry: new Registry(),
      jobs: [{ name: 'segment-sweep', schedule: { dailyAt: '03:17' }, run: async () => {} }],
    });
  });

  it('exposes zeroed series for every job before the first run', async () => {
    const registry = new Registry();
    createMaintenance({
      logger: silent,
      registry,
      jobs: [{ name: 'disk_check', schedule: { everySeconds: 60 }, run: async () => {} }],
    });
    const text = await registry.metrics();
    assert.match(text, /desktop_streamer_maintenance_job_runs_total\{job="disk_check",result="success"\} 0/);
    assert.match(text, /desktop_streamer_maintenance_job_runs_total\{job="disk_check",result="failure"\} 0/);
    assert.match(text, /desktop_streamer_maintenance_job_last_run_timestamp_seconds\{job="disk_check"\} 0/);
  });

  it('never overlaps runs of a job scheduled every second that takes 2.2 s, and counts them', async (t) => {
    const registry = new Registry();
    const job = slowJob(2200);
    const maintenance = createMaintenance({
      logger: silent,
      registry,
      jobs: [{ name: 'slow', schedule: EVERY_SECOND, run: job.run }],
    });
    t.after(() => maintenance.stop());
    const startedAt = Date.now() / 1000;
    maintenance.start();
    await sleep(4600);
    // A manual run while one is in progress joins it instead of starting another.
    const manual = maintenance.runNow('slow');
    await maintenance.stop();
    await manual;

    assert.equal(job.state.maxRunning, 1, 'at most one run at a time');
    assert.ok(job.state.starts >= 1 && job.state.starts <= 2, `starts: ${job.state.starts}`);
    const success = await sample(registry, 'desktop_streamer_maintenance_job_runs_total', {
      job: 'slow',
      result: 'success',
    });
    const skipped = await sample(registry, 'desktop_streamer_maintenance_job_runs_total', {
      job: 'slow',
      result: 'skipped',
    });
    assert.equal(success, job.state.starts, 'every finished run counted');
    assert.ok(skipped >= 1, `ticks during a run are counted as skipped (got ${skipped})`);
    const last = await sample(registry, 'desktop_streamer_maintenance_job_last_run_timestamp_seconds', {
      job: 'slow',
    });
    assert.ok(last >= startedAt && last <= Date.now() / 1000, `last run ${last}`);
  });

  it('counts failures, keeps scheduling after one, and runNow rejects with the cause', async (t) => {
    const registry = new Registry();
    let calls = 0;
    const maintenance = createMaintenance({
      logger: silent,
      registry,
      jobs: [
        {
          name: 'flaky',
          schedule: EVERY_SECOND,
          run: async () => {
            calls += 1;
            throw new Error(`boom ${calls}`);
          },
        },
      ],
    });
    t.after(() => maintenance.stop());
    maintenance.start();
    await sleep(2300);
    await maintenance.stop();
    const scheduledFailures = await sample(registry, 'desktop_streamer_maintenance_job_runs_total', {
      job: 'flaky',
      result: 'failure',
    });
    assert.ok(scheduledFailures >= 2, `failures counted: ${scheduledFailures}`);
    assert.equal(scheduledFailures, calls);

    await assert.rejects(
      maintenance.runNow('flaky'),
      (error: unknown) =>
        error instanceof MaintenanceJobError &&
        error.job === 'flaky' &&
        error.cause instanceof Error &&
        error.cause.message === `boom ${calls}`,
    );
    assert.equal(
      await sample(registry, 'desktop_streamer_maintenance_job_runs_total', {
        job: 'flaky',
        result: 'failure',
      }),
      calls,
    );
  });

  it('runNow of an unknown job names the known ones', async () => {
    const maintenance = createMaintenance({
      logger: silent,
      registry: new Registry(),
      jobs: [{ name: 'daily', schedule: { dailyAt: '03:00' }, run: async () => {} }],
    });
    await assert.rejects(maintenance.runNow('weekly'), /unknown maintenance job "weekly"; known: daily/);
  });

  it('a job that throws synchronously is still counted and does not block later runs', async () => {
    const registry = new Registry();
    let calls = 0;
    const maintenance = createMaintenance({
      logger: silent,
      registry,
      jobs: [
        {
          name: 'sync_throw',
          schedule: { dailyAt: '03:00' },
          run: (() => {
            calls += 1;
            throw new Error('sync');
          }) as () => Promise<void>,
        },
      ],
    });
    await assert.rejects(maintenance.runNow('sync_throw'), MaintenanceJobError);
    await assert.rejects(maintenance.runNow('sync_throw'), MaintenanceJobError);
    assert.equal(calls, 2);
  });

  it('stop() waits for a run in progress and no run starts afterwards', async () => {
    const job = slowJob(300);
    const maintenance = createMaintenance({
      logger: silent,
      registry: new Registry(),
      jobs: [{ name: 'slow', schedule: EVERY_SECOND, run: job.run }],
    });
    maintenance.start();
    void maintenance.runNow('slow');
    await sleep(50);
    assert.equal(job.state.running, 1);
    await maintenance.stop();
    assert.equal(job.state.running, 0, 'stop waited for the run');
    const starts = job.state.starts;
    await sleep(1200);
    assert.equal(job.state.starts, starts, 'nothing scheduled after stop');
  });
});
