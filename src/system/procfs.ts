/**
 * Files of /proc, read synchronously. The kernel makes such a file in memory as it is read, so a
 * read never waits for a disk; through libuv's thread pool, `fs.promises.readFile` costs four
 * round trips instead (open, fstat, read, close), each a wake-up of a pool thread and then of the
 * event loop. A metrics scrape reads about ten of them (bench/README.md, "Metrics scrape").
 * Not for files on a real filesystem (a slow disk would block the loop), nor for sysfs attributes
 * of a device driver, which may wake the device to answer (src/metrics/collectors/amdgpu.ts).
 */
import { readFileSync } from 'node:fs';

export function readProcFile(file: string): string {
  return readFileSync(file, 'utf8');
}
