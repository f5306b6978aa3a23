/**
 * Filesystem edges of the HLS publisher: atomic writes, moves, disk usage, and deletion
 * restricted to file names that are ours.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

export { statfsUsage } from '../system/disk-usage.ts';

/** The output directory is missing and cannot be created, or is not writable. */
export class HlsOutputError extends Error {
  override name = 'HlsOutputError';
  readonly path: string;
  constructor(message: string, filePath: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = filePath;
  }
}

/** Temp files of our atomic writes of playlist.m3u8, .state.json and segments (see tempFileNameFor). */
export const TEMP_FILE_PATTERN = /^\.(playlist\.m3u8|\.state\.json|seg-\d{9}\.ts)\.[0-9a-f]{12}\.tmp$/;

/** `.<target name>.<12 hex digits>.tmp`, in the target's directory. */
export function tempFileNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** A file written next to its target under a temp name, not yet in its place. */
export interface StagedFile {
  /** rename(2) it over the target: readers see the old or the new file, never half. */
  commit(): Promise<void>;
  /** Remove the temp file; the target stays as it was. */
  discard(): Promise<void>;
}

/** Write `data` to a temp file next to `target` (see StagedFile). */
export async function stageFile(target: string, data: string | Uint8Array): Promise<StagedFile> {
  const temp = tempFileNameFor(target);
  const discard = () => fs.rm(temp, { force: true }).catch(() => {});
  try {
    // Exclusive and O_NOFOLLOW: never written through a symlink planted under the temp name.
    await fs.writeFile(temp, data, {
      mode: 0o644,
      flag: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    });
  } catch (error) {
    await discard();
    throw error;
  }
  return {
    async commit() {
      try {
        // rename(2) replaces a symlink at `target` itself, never what it points to.
        await fs.rename(temp, target);
      } catch (error) {
        await discard();
        throw error;
      }
    },
    discard,
  };
}

/** Write `data` next to `target` and rename it over `target`: readers see the old or the new file, never half. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await (await stageFile(target, data)).commit();
}

/** rename(2); across filesystems (EXDEV) copy then unlink. */
export async function moveFile(source: string, target: string): Promise<void> {
  try {
    await fs.rename(source, target);
  } catch (error) {
    if (errorCode(error) !== 'EXDEV') throw error;
    // copyFile would write through a symlink at `target`: remove a symlink there, never follow it.
    const existing = await fs.lstat(target).catch(() => null);
    if (existing?.isSymbolicLink()) await fs.unlink(target);
    await fs.copyFile(source, target, constants.COPYFILE_EXCL);
    await fs.unlink(source);
  }
}

/** Size of a regular file (not following symlinks), or null when it is missing or not a regular file. */
export async function regularFileSize(file: string): Promise<number | null> {
  try {
    const stat = await fs.lstat(file);
    return stat.isFile() ? stat.size : null;
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return null;
    throw error;
  }
}

/**
 * Unlink `name` inside `dir` if (and only if) the name matches `pattern` and it is a regular
 * file: whatever else lives there is not ours. Returns the bytes freed (0 when nothing was removed).
 */
export async function unlinkOurs(dir: string, name: string, pattern: RegExp): Promise<number> {
  if (!pattern.test(name) || name !== path.basename(name)) return 0;
  const file = path.join(dir, name);
  const size = await regularFileSize(file);
  if (size === null) return 0;
  try {
    await fs.unlink(file);
    return size;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
}

/**
 * Names of the regular files in `dir`, from one readdir (no stat per file; Node falls back to
 * lstat only where the filesystem does not report file types); empty when `dir` does not exist.
 */
export async function regularFileNames(dir: string): Promise<Set<string>> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return new Set(entries.filter((entry) => entry.isFile()).map((entry) => entry.name));
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return new Set();
    throw error;
  }
}

/** Names in `dir`, or [] when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

/** `mkdir -p` + a writability check, both reported as HlsOutputError; a symlink in its place is refused. */
export async function ensureWritableDir(dir: string): Promise<void> {
  const existing = await fs.lstat(dir).catch(() => null);
  if (existing !== null && !existing.isDirectory()) {
    throw new HlsOutputError(
      `HLS directory ${dir} is ${existing.isSymbolicLink() ? 'a symlink' : 'not a directory'}: only real directories are used`,
      dir,
    );
  }
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    throw new HlsOutputError(`cannot create HLS directory ${dir}: ${(error as Error).message}`, dir, {
      cause: error,
    });
  }
  try {
    await fs.access(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new HlsOutputError(`HLS directory ${dir} is not writable: ${(error as Error).message}`, dir, {
      cause: error,
    });
  }
}

/** A real directory (not a symlink to one) is at `dir`. */
export async function isRealDir(dir: string): Promise<boolean> {
  try {
    return (await fs.lstat(dir)).isDirectory();
  } catch {
    return false;
  }
}

export async function dirExists(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
