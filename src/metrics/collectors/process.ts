import type { SupervisorSnapshot } from '../../pipeline/types.ts';
import { readProcessStats } from '../../system/proc-process.ts';
import { type CollectorDefinition, setCounter } from '../scrape.ts';

export interface ProcessCollectorDeps {
  supervisor: { snapshot(): SupervisorSnapshot };
  /** default '/proc' */
  procRoot: string;
}

/**
 * CPU, RSS and threads of the gst-launch child, from /proc/<pid>/{stat,status}.
 * Without a pipeline process (no pid, or it exited between snapshot and read) all three are 0;
 * the CPU counter dropping to 0 reads as a counter reset, as it does on every restart.
 */
export function processCollector(deps: ProcessCollectorDeps): CollectorDefinition {
  return {
    name: 'pipeline_process',
    setup(metrics) {
      const cpu = metrics.counter(
        'desktop_streamer_pipeline_process_cpu_seconds_total',
        'CPU time (user+system) of the gst-launch child, from /proc (0 without a pipeline process).',
      );
      const rss = metrics.gauge(
        'desktop_streamer_pipeline_process_resident_memory_bytes',
        'Resident memory of the gst-launch child (0 without a pipeline process).',
      );
      const threads = metrics.gauge(
        'desktop_streamer_pipeline_process_threads',
        'Threads of the gst-launch child (0 without a pipeline process).',
      );
      return async () => {
        const pid = deps.supervisor.snapshot().pipeline.pid;
        const stats = pid === null ? null : await readProcessStats(deps.procRoot, pid);
        setCounter(cpu, stats?.cpuSeconds ?? 0);
        rss.set(stats?.residentBytes ?? 0);
        threads.set(stats?.threads ?? 0);
      };
    },
  };
}
