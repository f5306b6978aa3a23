/**
 * The pipeline runs in its own process group, so a supervisor killed with SIGKILL (outside systemd,
 * which kills the whole cgroup) leaves its gst-launch-1.0 behind. The pid file lets the next start
 * find and stop it — only if that pid still is a gst-launch-1.0 started for our output dir (its
 * environment carries OUTPUT_DIR_ENV: the pipeline writes to a pipe, so its arguments name no path).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';

const PID_FILE = '.pipeline.pid';
/** Set in the pipeline's environment to the output dir it streams for. */
export const OUTPUT_DIR_ENV = 'DESKTOP_STREAMER_OUTPUT_DIR';

export async function writePipelinePidFile(outputDir: string, pid: number): Promise<void> {
  await writeFile(join(outputDir, PID_FILE), `${pid}\n`).catch(() => {});
}

/** True when /proc says a process is a gst-launch-1.0 started for `outputDir` (cmdline and environ as read there). */
export function isOurPipeline(cmdline: string, environ: string, outputDir: string): boolean {
  const command = cmdline.split('\0')[0] ?? '';
  return command.endsWith('gst-launch-1.0') && environ.split('\0').includes(`${OUTPUT_DIR_ENV}=${outputDir}`);
}

export async function killOrphanPipeline(outputDir: string, logger: Logger): Promise<number | null> {
  const pidFile = join(outputDir, PID_FILE);
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(pidFile, 'utf8'), 10);
  } catch {
    return null;
  }
  await rm(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return null;
  const [cmdline, environ] = await Promise.all(
    ['cmdline', 'environ'].map((file) => readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '')),
  );
  if (!isOurPipeline(cmdline ?? '', environ ?? '', outputDir)) return null;
  logger.warn({ pid }, 'stopping a pipeline left behind by an earlier supervisor');
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return null;
    }
  }
  return pid;
}
