export {
  type DailySummary,
  DailySummaryConfigError,
  type DailySummaryOptions,
  describeDailySummary,
  startDailySummary,
} from './daily-summary.ts';
