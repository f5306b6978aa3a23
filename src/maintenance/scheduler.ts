/**
 * Periodic maintenance inside the supervisor (the earlier system used cron jobs beside
 * it): node-cron schedules, one run of a job at a time, every run counted in metrics.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.ts';

export interface MaintenanceJob {
  /** Metric label and log field: lowercase letters, digits, _ and -. */
  name: string;
  /** node-cron expression (5 fields, or 6 with seconds first). */
  schedule: string;
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
    if (!cron.validate(job.schedule)) {
      throw new MaintenanceConfigError(
        `maintenance job ${job.name}: schedule ${JSON.stringify(job.schedule)} is not a valid cron expression ` +
          '(5 fields "m h dom mon dow", or 6 with seconds first)',
      );
    }
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
  let tasks: ScheduledTask[] = [];

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

  // node-cron's own warnings (e.g. missed executions under load) go to our log.
  const cronLogger = {
    info: (message: string) => logger.info(message),
    warn: (message: string) => logger.warn(message),
    error: (message: string | Error) => logger.error({ err: message }, 'node-cron error'),
    debug: (message: string | Error) => logger.debug({ err: message }, 'node-cron debug'),
  };

  return {
    start() {
      if (tasks.length > 0) return;
      // Overlap is prevented by our own guard (it also covers runNow), so node-cron's
      // noOverlap is not needed; a tick during a run is counted as `skipped`.
      tasks = options.jobs.map((job) =>
        cron.schedule(job.schedule, () => onSchedule(job), { name: job.name, logger: cronLogger }),
      );
      logger.info({ jobs: options.jobs.map(({ name, schedule }) => ({ name, schedule })) }, 'started');
    },
    async stop() {
      const stopping = tasks;
      tasks = [];
      await Promise.all(stopping.map((task) => task.destroy()));
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
