export {
  DAILY_JOB,
  type DailySummary,
  DISK_CHECK_JOB,
  describeDailySummary,
  type StandardJobsOptions,
  standardMaintenanceJobs,
} from './jobs.ts';
export { describeSchedule, nextRunAfter, type Schedule } from './schedule.ts';
export {
  createMaintenance,
  type Maintenance,
  MaintenanceConfigError,
  type MaintenanceJob,
  MaintenanceJobError,
  type MaintenanceOptions,
} from './scheduler.ts';
