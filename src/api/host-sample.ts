/** Host and process readings for /api/health and /api/status; they live in src/system/. */
export { CpuSampler } from '../system/cpu-sampler.ts';
export { diskUsagePercent } from '../system/disk-usage.ts';
export { systemMemoryPercent } from '../system/proc-host.ts';
export { processRssBytes } from '../system/proc-process.ts';
