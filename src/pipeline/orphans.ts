/**
 * The pipeline runs in its own process group, so a supervisor killed with SIGKILL (outside systemd,
 * which kills the whole cgroup) leaves its gst-launch-1.0 behind. The pid file lets the next start
 * find and stop it — only if that pid still is a gst-launch-1.0 writing into our output dir.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';

const PID_FILE = '.pipeline.pid';

export async function writePipelinePidFile(outputDir: string, pid: number): Promise<void> {
  await writeFile(join(outputDir, PID_FILE), `${pid}\n`).catch(() => {});
}

/** True when /proc says `pid` is a gst-launch-1.0 whose arguments mention `outputDir`. */
export function isOurPipeline(cmdline: string, outputDir: string): boolean {
  const args = cmdline.split('\0');
  return (args[0] ?? '').endsWith('gst-launch-1.0') && args.some((arg) => arg.includes(outputDir));
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
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!isOurPipeline(cmdline, outputDir)) return null;
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
