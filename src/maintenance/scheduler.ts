/**
 * Periodic maintenance inside the supervisor (the earlier system used cron jobs beside
 * it): timers per schedule (schedule.ts), one run of a job at a time, every run counted in metrics.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import { describeSchedule, nextRunAfter, type Schedule, scheduleProblem } from './schedule.ts';

export interface MaintenanceJob {
  /** Metric label and log field: lowercase letters, digits, _ and -. */
  name: string;
  schedule: Schedule;
  run: () => Promise<void>;
}

export interface MaintenanceOptions {
  logger: Logger;
  registry: Registry;
  jobs: MaintenanceJob[];
}

export interface Maintenance {
  start(): void;
  /** Stops the schedules and waits for runs in progress. */
  stop(): Promise<void>;
  /**
   * Runs a job now. If it is already running, waits for that run instead of starting
   * a second one. Rejects with MaintenanceJobError when the run fails.
   */
  runNow(name: string): Promise<void>;
}

export const JOB_RESULTS = ['success', 'failure', 'skipped'] as const;
export type JobResult = (typeof JOB_RESULTS)[number];

export class MaintenanceConfigError extends Error {
  override readonly name = 'MaintenanceConfigError';
}

export class MaintenanceJobError extends Error {
  override readonly name = 'MaintenanceJobError';
  constructor(
    readonly job: string,
    cause: unknown,
  ) {
    super(`maintenance job ${job} failed`, { cause });
  }
}

const JOB_NAME = /^[a-z][a-z0-9_-]*$/;
const MAX_WAIT_MS = 3_600_000;

function validateJobs(jobs: MaintenanceJob[]): void {
  const seen = new Set<string>();
  for (const job of jobs) {
    if (!JOB_NAME.test(job.name)) {
      throw new MaintenanceConfigError(
        `maintenance job name ${JSON.stringify(job.name)} is invalid: use lowercase letters, digits, _ and -, starting with a letter`,
      );
    }
    if (seen.has(job.name)) {
      throw new MaintenanceConfigError(`maintenance job name ${JSON.stringify(job.name)} is used twice`);
    }
    seen.add(job.name);
    const problem = scheduleProblem(job.schedule);
    if (problem !== null) throw new MaintenanceConfigError(`maintenance job ${job.name}: ${problem}`);
  }
}

export function createMaintenance(options: MaintenanceOptions): Maintenance {
  validateJobs(options.jobs);
  const logger = options.logger.child({ module: 'maintenance' });
  const runs = new Counter({
    name: 'desktop_streamer_maintenance_job_runs_total',
    help: 'Maintenance job runs, by result (skipped = still running from the previous run).',
    labelNames: ['job', 'result'] as const,
    registers: [options.registry],
  });
  const lastRun = new Gauge({
    name: 'desktop_streamer_maintenance_job_last_run_timestamp_seconds',
    help: 'When a maintenance job last finished a run (0 = never).',
    labelNames: ['job'] as const,
    registers: [options.registry],
  });
  for (const job of options.jobs) {
    for (const result of JOB_RESULTS) runs.inc({ job: job.name, result }, 0);
    lastRun.set({ job: job.name }, 0);
  }

  const jobs = new Map(options.jobs.map((job) => [job.name, job]));
  const inFlight = new Map<string, Promise<void>>();
  let timers: NodeJS.Timeout[] = [];
  let running = false;

  /** Starts a run; resolves when it ends, rejects with MaintenanceJobError on failure. */
  function startRun(job: MaintenanceJob, trigger: 'scheduled' | 'manual'): Promise<void> {
    const startedAt = performance.now();
    // Started on a later microtask, so that even a job throwing synchronously finds
    // itself registered in inFlight first.
    const run = Promise.resolve()
      .then(() => job.run())
      .then(
        () => {
          runs.inc({ job: job.name, result: 'success' });
          logger.debug({ job: job.name, trigger, durationMs: performance.now() - startedAt }, 'job done');
        },
        (error: unknown) => {
          runs.inc({ job: job.name, result: 'failure' });
          throw new MaintenanceJobError(job.name, error);
        },
      )
      .finally(() => {
        lastRun.set({ job: job.name }, Date.now() / 1000);
        inFlight.delete(job.name);
      });
    inFlight.set(job.name, run);
    return run;
  }

  function onSchedule(job: MaintenanceJob): Promise<void> {
    if (inFlight.has(job.name)) {
      runs.inc({ job: job.name, result: 'skipped' });
      logger.warn({ job: job.name }, 'job still running from its previous run; this run is skipped');
      return Promise.resolve();
    }
    return startRun(job, 'scheduled').catch((error: MaintenanceJobError) => {
      logger.error({ job: job.name, err: error.cause }, 'maintenance job failed');
    });
  }

  /**
   * Waits for the job's next due time in steps of at most an hour, so a wall clock that is
   * stepped meanwhile (NTP at boot, a suspended kiosk) still gets the run at the right time.
   */
  function schedule(job: MaintenanceJob, index: number, due: number): void {
    const delay = Math.min(Math.max(0, due - Date.now()), MAX_WAIT_MS);
    timers[index] = setTimeout(() => {
      if (!running) return;
      if (Date.now() < due) {
        schedule(job, index, due);
        return;
      }
      void onSchedule(job);
      schedule(job, index, nextRunAfter(job.schedule, Date.now()));
    }, delay);
  }

  return {
    start() {
      if (running) return;
      running = true;
      // A tick during a run is counted as `skipped` (onSchedule's guard, which also covers runNow).
      for (const [index, job] of options.jobs.entries()) {
        schedule(job, index, nextRunAfter(job.schedule, Date.now()));
      }
      logger.info(
        { jobs: options.jobs.map((job) => ({ name: job.name, schedule: describeSchedule(job.schedule) })) },
        'started',
      );
    },
    async stop() {
      running = false;
      for (const timer of timers) clearTimeout(timer);
      timers = [];
      await Promise.allSettled([...inFlight.values()]);
    },
    async runNow(name) {
      const job = jobs.get(name);
      if (!job) {
        throw new MaintenanceConfigError(
          `unknown maintenance job ${JSON.stringify(name)}; known: ${[...jobs.keys()].join(', ')}`,
        );
      }
      const running = inFlight.get(name);
      if (running) return running;
      return startRun(job, 'manual');
    },
  };
}
