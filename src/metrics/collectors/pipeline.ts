import { DISPLAY_ACCESS_STATES, displayAccessOf } from '../../capture/x-access.ts';
import {
  PIPELINE_ERROR_TYPES,
  RESTART_REASONS,
  SUPERVISOR_STATES,
  type SupervisorSnapshot,
} from '../../pipeline/types.ts';
import { type CollectorDefinition, setCounter, setCounters } from '../scrape.ts';

export interface PipelineCollectorDeps {
  supervisor: { snapshot(): SupervisorSnapshot };
  /** epoch ms */
  now: () => number;
}

/** The supervisor's state machine, restarts and errors (from SupervisorSnapshot). */
export function pipelineCollector(deps: PipelineCollectorDeps): CollectorDefinition {
  return {
    name: 'pipeline',
    setup(metrics) {
      const state = metrics.gauge(
        'desktop_streamer_pipeline_state',
        'Supervisor state: 1 for the current state, 0 for the others.',
        ['state'],
      );
      const up = metrics.gauge('desktop_streamer_pipeline_up', '1 while the supervisor state is streaming.');
      const failed = metrics.gauge('desktop_streamer_pipeline_failed', '1 in the failed state.');
      const restarts = metrics.counter('desktop_streamer_pipeline_restarts_total', 'Pipeline restarts.', [
        'reason',
      ]);
      const errors = metrics.counter(
        'desktop_streamer_pipeline_errors_total',
        'Errors reported by the pipeline.',
        ['type'],
      );
      const warnings = metrics.counter(
        'desktop_streamer_pipeline_warnings_total',
        'Warnings reported by the pipeline.',
      );
      const startTime = metrics.gauge(
        'desktop_streamer_pipeline_start_timestamp_seconds',
        'When the current pipeline process started (0 if none).',
      );
      const uptime = metrics.gauge(
        'desktop_streamer_pipeline_uptime_seconds',
        'Seconds since the current pipeline process started (0 if none).',
      );
      const lastError = metrics.gauge(
        'desktop_streamer_pipeline_last_error_timestamp_seconds',
        'Time of the last pipeline error (0 if none).',
      );
      const displayAccess = metrics.gauge(
        'desktop_streamer_display_access',
        'Access to the X display: 1 for the current state (granted, refused = X authorisation, unreachable, unknown), 0 for the others.',
        ['state'],
      );
      const backoff = metrics.gauge(
        'desktop_streamer_pipeline_restart_backoff_seconds',
        'Current restart backoff (0 when none).',
      );

      return () => {
        const snapshot = deps.supervisor.snapshot();
        for (const name of SUPERVISOR_STATES) state.set({ state: name }, snapshot.state === name ? 1 : 0);
        up.set(snapshot.state === 'streaming' ? 1 : 0);
        failed.set(snapshot.state === 'failed' ? 1 : 0);
        setCounters(
          restarts,
          RESTART_REASONS.map((reason) => [{ reason }, snapshot.restartsByReason[reason] ?? 0] as const),
        );
        setCounters(
          errors,
          PIPELINE_ERROR_TYPES.map((type) => [{ type }, snapshot.errorsByType[type] ?? 0] as const),
        );
        setCounter(warnings, snapshot.warningsTotal);
        const startedAt = snapshot.pipeline.startedAt;
        startTime.set(startedAt === null ? 0 : startedAt / 1000);
        uptime.set(startedAt === null ? 0 : Math.max(0, deps.now() - startedAt) / 1000);
        lastError.set(snapshot.lastError ? snapshot.lastError.at / 1000 : 0);
        backoff.set(snapshot.backoffSeconds);
        const access = displayAccessOf(snapshot.capture !== null, snapshot.displayError);
        for (const name of DISPLAY_ACCESS_STATES) displayAccess.set({ state: name }, access === name ? 1 : 0);
      };
    },
  };
}
