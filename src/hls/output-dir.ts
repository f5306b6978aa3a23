/**
 * Ownership of output_dir: never run on a system or home directory, claim the directory with a
 * marker file so a directory holding someone else's files is not adopted, and never follow a
 * symlink found inside it when deleting or writing (issue #14, item 5).
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

/** output_dir is unusable: the message names the key, the value and what is allowed. */
export class OutputDirError extends Error {
  override name = 'OutputDirError';
  readonly key = 'output_dir';
  readonly value: string;
  constructor(value: string, problem: string, options?: { cause?: unknown }) {
    super(`output_dir "${value}": ${problem}`, options);
    this.value = value;
  }
}

/** The file that marks a directory as ours; its presence is what lets us delete in it. */
export const MARKER_FILE_NAME = '.desktop-streamer';
const MARKER_TEXT = 'This directory is managed by desktop-streamer: its files may be deleted at any time.\n';

/** Entries a directory of an earlier desktop-streamer (before the marker) may hold: adopted. */
const OUR_ENTRIES = new Set([
  'desktop',
  '.work',
  '.state.json',
  '.pipeline.pid',
  '.instance.lock',
  MARKER_FILE_NAME,
]);
const OUR_TEMP_ENTRY = /^\.(\.state\.json|playlist\.m3u8)\.[0-9a-f]{12}\.tmp$/;

/** Directories of the system (and their parents): a stream never goes there. */
const SYSTEM_DIRS = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/var/cache',
  '/var/lib',
  '/var/log',
  '/var/tmp',
  '/run/user',
];

/**
 * Why `dir` (absolute) must not be output_dir, or null when it may be. `home` is $HOME. Pure.
 * Refused: a system directory, any directory holding one (a parent), `/etc/…` and `/usr/…`
 * (configuration and programs), /proc, /sys, /dev below them, a home directory itself
 * (`/home/<user>`, /root, $HOME) and /run/user/<uid>.
 */
export function refusalReason(dir: string, home: string | undefined): string | null {
  const resolved = path.resolve(dir);
  const within = (root: string) => resolved === root || resolved.startsWith(`${root}/`);
  if (SYSTEM_DIRS.includes(resolved)) return 'is a system directory';
  for (const root of ['/etc', '/usr', '/proc', '/sys', '/dev', '/boot', '/bin', '/sbin', '/lib', '/lib64']) {
    if (within(root)) return `is inside ${root}, a system directory`;
  }
  const homes = new Set(['/root']);
  if (home && home !== '/') homes.add(path.resolve(home));
  if (homes.has(resolved) || /^\/home\/[^/]+$/.test(resolved) || /^\/run\/user\/\d+$/.test(resolved)) {
    return 'is a home directory';
  }
  return null;
}

const ALLOWED = 'a directory of its own for the stream, such as /var/lib/desktop-streamer/hls or /tmp/hls';

/** Whether every entry of a directory without a marker is one an earlier desktop-streamer made. Pure. */
export function looksLikeOurs(entries: readonly string[]): boolean {
  return entries.every((name) => OUR_ENTRIES.has(name) || OUR_TEMP_ENTRY.test(name));
}

/**
 * Makes sure `dir` may be used and claims it: refuses system and home directories (also when
 * `dir` is a symlink to one), creates it when missing, and writes the marker into it when it is
 * empty or holds only our own entries. A directory with other files and no marker is refused.
 * Call once at start, before anything is read from or written to `dir`.
 */
export async function claimOutputDir(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const refusal = refusalReason(dir, env.HOME);
  if (refusal) throw new OutputDirError(dir, `${refusal}; allowed: ${ALLOWED}`);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    throw new OutputDirError(dir, `cannot create it (${errorCode(error)}); allowed: ${ALLOWED}`, {
      cause: error,
    });
  }
  const real = await fs.realpath(dir);
  const realRefusal = refusalReason(real, env.HOME);
  if (realRefusal)
    throw new OutputDirError(dir, `leads to ${real}, which ${realRefusal}; allowed: ${ALLOWED}`);

  const marker = path.join(dir, MARKER_FILE_NAME);
  const markerStat = await fs.lstat(marker).catch(() => null);
  if (markerStat !== null) {
    if (!markerStat.isFile())
      throw new OutputDirError(dir, `${MARKER_FILE_NAME} is not a regular file (a symlink?)`);
  } else {
    const entries = await fs.readdir(dir);
    if (!looksLikeOurs(entries)) {
      const foreign = entries.filter((name) => !OUR_ENTRIES.has(name) && !OUR_TEMP_ENTRY.test(name));
      throw new OutputDirError(
        dir,
        `holds files desktop-streamer did not make (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}) and no ${MARKER_FILE_NAME} marker; allowed: an empty or new directory (${ALLOWED})`,
      );
    }
    await writeNew(marker, MARKER_TEXT);
  }
  for (const sub of ['desktop', '.work']) await assertNotSymlink(dir, sub);
}

/** Throws when `<dir>/<name>` exists and is anything but a real directory (a symlink is refused). */
export async function assertNotSymlink(dir: string, name: string): Promise<void> {
  const stat = await fs.lstat(path.join(dir, name)).catch(() => null);
  if (stat !== null && !stat.isDirectory()) {
    throw new OutputDirError(
      dir,
      `${name} is ${stat.isSymbolicLink() ? 'a symlink' : 'not a directory'}; only real directories are used inside output_dir`,
    );
  }
}

/** Creates `file` exclusively, never through a symlink or over an existing file. */
async function writeNew(file: string, text: string): Promise<void> {
  const handle = await fs.open(
    file,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
