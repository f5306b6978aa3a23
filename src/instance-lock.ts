/**
 * One supervisor per output_dir: a second `run` on the same directory must fail before it
 * touches anything (it used to kill the first one's pipeline and remove its work dirs).
 * The lock is a file holding the owner's pid, created exclusively; a lock whose pid is no
 * longer alive (a killed supervisor) is taken over.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE_NAME = '.instance.lock';

export class InstanceLockedError extends Error {
  override name = 'InstanceLockedError';
  readonly pid: number;
  constructor(dir: string, pid: number) {
    super(
      `output_dir "${dir}" is in use by another desktop-streamer (pid ${pid}); stop it first or give this one another output_dir`,
    );
    this.pid = pid;
  }
}

export interface InstanceLock {
  release(): Promise<void>;
}

/** Whether `pid` names a live process (EPERM: alive but not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireInstanceLock(dir: string, pid = process.pid): Promise<InstanceLock> {
  const file = path.join(dir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(
        file,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o644,
      );
      await handle.writeFile(`${pid}\n`);
      await handle.close();
      return {
        release: async () => {
          // Only our own lock: after a takeover the file may name another process.
          const owner = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
          if (owner === pid) await fs.unlink(file).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stat = await fs.lstat(file).catch(() => null);
    if (stat !== null && !stat.isFile()) {
      throw new Error(`${file} is not a regular file (a symlink?): remove it`);
    }
    const owner = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== pid && alive(owner)) {
      throw new InstanceLockedError(dir, owner);
    }
    // Stale (its owner is gone, or the file is half-written): take it over.
    await fs.unlink(file).catch(() => {});
  }
  throw new Error(`could not take ${file}: it keeps coming back`);
}
