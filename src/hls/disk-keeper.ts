/**
 * The disk side of the publisher: makes the public dir match the live window (segment files,
 * playlist.m3u8, the state file), deletes segments that left the playlist under RFC 8216 §6.2.2
 * retention and disk pressure, and heals what was removed behind its back. All of its disk work
 * runs one job at a time, in order; the periodic cleanup is one such job.
 */
import path from 'node:path';
import type { LiveStreamingConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import {
  dirExists,
  ensureWritableDir,
  HlsOutputError,
  isRealDir,
  listDir,
  regularFileNames,
  type StagedFile,
  stageFile,
  TEMP_FILE_PATTERN,
  unlinkOurs,
  writeFileAtomic,
} from './disk.ts';
import type { LiveWindow } from './live-window.ts';
import type { HlsPaths } from './paths.ts';
import { mediaSequenceOf, PLAYLIST_FILE_NAME, type PlaylistEntry, SEGMENT_NAME_PATTERN } from './playlist.ts';
import { continuedPlaylist, readPreviousOutput } from './restore.ts';
import {
  classifyDiskPressure,
  type DiskPressure,
  planDeletions,
  type RetainedSegment,
  retire,
  windowSize,
} from './retention.ts';
import { type PublisherState, writeState } from './state-file.ts';
import type { PublicSegment } from './types.ts';

const PLAYLIST_NAME_PATTERN = /^playlist\.m3u8$/;
/**
 * While segments are written, their job does the cleanup's work (disk pressure, deletions), and
 * the full pass, which also heals files removed behind our back, rides along this often. The
 * cleanup timer only runs while no segment comes: a pass every 2 s beside the segment's own disk
 * work was a third of the supervisor's file system calls.
 */
const HEAL_INTERVAL_MS = 10_000;

export interface Removed {
  removedFiles: number;
  removedBytes: number;
}

export interface DiskKeeper {
  /**
   * Create the dirs, continue what a previous supervisor left, then clean up every `intervalMs`
   * while no segment is written (see HEAL_INTERVAL_MS).
   */
  start(intervalMs: number): Promise<void>;
  /** Stop the periodic cleanup; settles when the queued disk work is done. */
  stop(): Promise<void>;
  /** Delete what is due, drop what vanished, restore what we hold: one queued job. */
  cleanup(): Promise<Removed>;
  /** A run begins: recreate the public dir if it vanished (queued; rejects when it is unusable). */
  prepareRun(): Promise<void>;
  /** How many segments the playlist lists under the current disk pressure. */
  windowSize(): number;
  /** Entries that left the playlist at `time`: their files stay until retention lets them go. */
  retire(entries: readonly PlaylistEntry[], time: number): void;
  /**
   * Write a segment the window just listed, then the playlist and state file (queued). Until the
   * write is done its missing file does not count as vanished. Rejects when the segment cannot be written.
   */
  persistSegment(segment: PublicSegment, data: Buffer, time: number): Promise<PublicSegment>;
  /** Settles when the disk work queued so far is done. */
  idle(): Promise<void>;
  /** Segments that left the playlist whose files are still kept. */
  retained(): readonly RetainedSegment[];
}

export interface DiskKeeperOptions {
  paths: HlsPaths;
  window: LiveWindow;
  live: LiveStreamingConfig;
  segmentDurationSeconds: number;
  log: Logger;
  now: () => number;
  diskUsage: (dir: string) => Promise<{ usedPercent: number }>;
}

export function createDiskKeeper(options: DiskKeeperOptions): DiskKeeper {
  const { paths, window, live, log, now, diskUsage } = options;
  let retained: RetainedSegment[] = [];
  /** Listed segments whose file is still being written: present, whatever the disk says yet. */
  const pendingWrites = new Set<string>();
  let pressure: DiskPressure = 'normal';
  /** A listed segment's write failed: its file may be missing until the next restore. */
  let unwrittenSegments = false;
  let started = false;
  let timer: NodeJS.Timeout | null = null;
  let cleanupIntervalMs = 0;
  let lastCleanupAt = Number.NEGATIVE_INFINITY;

  // One job at a time: restore, cleanup and segment writes all rewrite the same files and state.
  let queue: Promise<unknown> = Promise.resolve();
  function serialized<T>(job: () => Promise<T>): Promise<T> {
    const run = queue.then(job, job);
    queue = run.catch(() => {});
    return run;
  }

  async function measurePressure(): Promise<void> {
    let usedPercent: number;
    try {
      ({ usedPercent } = await diskUsage(paths.outputDir));
    } catch (error) {
      log.warn(
        { err: error, dir: paths.outputDir },
        'cannot measure disk usage of the HLS output; keeping last pressure',
      );
      return;
    }
    const next = classifyDiskPressure(usedPercent, live);
    if (next !== pressure) {
      const level = next === 'normal' ? 'info' : next === 'high' ? 'warn' : 'error';
      log[level]({ usedPercent, from: pressure, to: next }, `HLS output disk pressure is now ${next}`);
      pressure = next;
    }
  }

  function playlistError(error: unknown): HlsOutputError {
    return new HlsOutputError(
      `cannot write ${paths.playlistPath}: ${(error as Error).message}`,
      paths.playlistPath,
      { cause: error },
    );
  }

  /** The playlist as it is now, written under a temp name (null: nothing is listed). Never rejects: a failure is returned. */
  async function stagePlaylist(): Promise<StagedFile | HlsOutputError | null> {
    const text = window.renderPlainText();
    if (text === null) return null;
    return stageFile(paths.playlistPath, text).catch(playlistError);
  }

  /** Put a staged playlist in its place; with nothing listed, remove the file. */
  async function commitPlaylist(staged: StagedFile | HlsOutputError | null): Promise<void> {
    if (staged instanceof HlsOutputError) throw staged;
    try {
      if (staged === null) await unlinkOurs(paths.publicDir, PLAYLIST_FILE_NAME, PLAYLIST_NAME_PATTERN);
      else await staged.commit();
    } catch (error) {
      throw playlistError(error);
    }
  }

  async function writePlaylist(): Promise<void> {
    await commitPlaylist(await stagePlaylist());
  }

  async function writeStateFile(): Promise<void> {
    const model = window.model();
    const state: PublisherState = {
      version: 1,
      nextSequence: model.nextSequence,
      targetDurationSeconds: model.targetDurationSeconds,
      listed: model.entries.map(({ segment, longestPlaylistSeconds }) => ({
        sequence: segment.sequence,
        frames: segment.frames,
        longestPlaylistSeconds,
      })),
      retained,
    };
    try {
      await writeState(paths.statePath, state);
    } catch (error) {
      // Best effort: without it a restarted supervisor still continues from the playlist.
      log.warn({ err: error, file: paths.statePath }, 'cannot write the HLS state file');
    }
  }

  /** Forget listed/retained segments whose files vanished (`onDisk`); true when the playlist changed. */
  function reconcileWithDisk(onDisk: Set<string>): boolean {
    retained = retained.filter((segment) => onDisk.has(segment.uri));
    // A segment we hold in memory is still served (and its file written again, restoreListedFiles).
    const present = (uri: string) =>
      onDisk.has(uri) || pendingWrites.has(uri) || window.listedSegmentData(uri) !== null;
    const listedBefore = window.model().entries.length;
    const removed = window.dropMissing(present);
    if (removed === null) return false;
    log.warn(
      { listedBefore, listedAfter: window.model().entries.length },
      'segment files of the public playlist vanished from disk; dropped them from the playlist',
    );
    retained.push(...retire(removed, now()));
    return true;
  }

  /**
   * Listed segments held in memory whose file is missing (the output dir was wiped, or the write
   * failed on a read-only or full disk): write them again, so that the files match the playlist.
   */
  async function restoreListedFiles(onDisk: Set<string>): Promise<void> {
    for (const { segment } of window.model().entries) {
      const data = window.listedSegmentData(segment.uri);
      if (!data || onDisk.has(segment.uri) || pendingWrites.has(segment.uri)) continue;
      await writeFileAtomic(path.join(paths.publicDir, segment.uri), data);
    }
    unwrittenSegments = false;
  }

  /**
   * Recreate the output dirs if they vanished (restoring the listed files we hold, forgetting the
   * rest). Usually one lstat shows that the public dir is still there; `thorough` (a run begins)
   * also proves it writable, so that an unusable dir fails the start, not a later write.
   */
  async function ensureDirs(thorough = false): Promise<void> {
    if (!thorough && (await isRealDir(paths.publicDir))) return;
    const publicDirWasMissing = started && !(await dirExists(paths.publicDir));
    await ensureWritableDir(paths.publicDir);
    if (publicDirWasMissing) {
      log.warn({ dir: paths.publicDir }, 'public HLS directory was missing: recreated it');
      reconcileWithDisk(new Set());
      await restoreListedFiles(new Set());
      await writePlaylist();
    }
  }

  async function deleteDue(time: number): Promise<Removed> {
    const plan = planDeletions(retained, time, pressure);
    const kept = [...plan.keep];
    let removedFiles = 0;
    let removedBytes = 0;
    for (const segment of plan.remove) {
      try {
        const bytes = await unlinkOurs(paths.publicDir, segment.uri, SEGMENT_NAME_PATTERN);
        if (bytes > 0) {
          removedFiles += 1;
          removedBytes += bytes;
        }
      } catch (error) {
        log.warn({ err: error, file: segment.uri }, 'cannot delete an expired HLS segment; will retry');
        kept.push(segment);
      }
    }
    retained = kept;
    return { removedFiles, removedBytes };
  }

  /** Our files in the public and output dirs that nothing references any more. Foreign files are never touched. */
  async function sweepUnreferenced(publicNames: readonly string[], referenced: Set<string>): Promise<number> {
    let swept = 0;
    for (const name of publicNames) {
      if (SEGMENT_NAME_PATTERN.test(name) && !referenced.has(name)) {
        if ((await unlinkOurs(paths.publicDir, name, SEGMENT_NAME_PATTERN)) > 0) swept += 1;
      } else if (TEMP_FILE_PATTERN.test(name)) {
        await unlinkOurs(paths.publicDir, name, TEMP_FILE_PATTERN);
      }
    }
    for (const name of await listDir(paths.outputDir)) {
      if (TEMP_FILE_PATTERN.test(name)) await unlinkOurs(paths.outputDir, name, TEMP_FILE_PATTERN);
    }
    return swept;
  }

  /** Continue the playlist a previous supervisor left (playlist + state file), then sweep. */
  async function restore(): Promise<void> {
    const previous = await readPreviousOutput(paths, log);
    const continued = continuedPlaylist(previous, options.segmentDurationSeconds, now());
    window.replaceModel(continued.model);
    retained = continued.retained;
    window.renderPlainText();
    if (continued.droppedMissing) await writePlaylist();
    const referenced = new Set([
      ...continued.model.entries.map((entry) => entry.segment.uri),
      ...retained.map((segment) => segment.uri),
    ]);
    const swept = await sweepUnreferenced(previous.publicNames, referenced);
    await writeStateFile();
    const model = window.model();
    log.info(
      {
        mediaSequence: mediaSequenceOf(model),
        nextSequence: model.nextSequence,
        listed: model.entries.length,
        retained: retained.length,
        swept,
      },
      model.nextSequence > 0 ? 'continuing the public HLS playlist' : 'starting a new public HLS playlist',
    );
  }

  /** The next periodic cleanup in `delayMs` (replacing the one planned). */
  function scheduleCleanup(delayMs: number): void {
    if (!started) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      cleanup().catch((error: unknown) => log.error({ err: error }, 'HLS cleanup failed'));
      scheduleCleanup(cleanupIntervalMs);
    }, delayMs);
    timer.unref();
  }

  function cleanup(): Promise<Removed> {
    return serialized(cleanupPass);
  }

  async function cleanupPass(): Promise<Removed> {
    lastCleanupAt = now();
    await ensureDirs();
    await measurePressure();
    const time = now();
    const files = await regularFileNames(paths.publicDir);
    let playlistChanged = reconcileWithDisk(files);
    await restoreListedFiles(files);
    const slid = window.slide(windowSize(pressure, live));
    if (slid.length > 0) {
      retained.push(...retire(slid, time));
      playlistChanged = true;
    }
    if (playlistChanged || (window.plainText() !== null && !files.has(PLAYLIST_FILE_NAME))) {
      await writePlaylist();
    }
    const before = retained.length;
    const removed = await deleteDue(time);
    if (playlistChanged || retained.length !== before) await writeStateFile();
    if (removed.removedFiles > 0) log.debug({ ...removed, pressure }, 'deleted expired HLS segments');
    return removed;
  }

  function persistSegment(segment: PublicSegment, data: Buffer, time: number): Promise<PublicSegment> {
    pendingWrites.add(segment.uri);
    // This job does the cleanup's work: the timer waits until segments stop coming.
    scheduleCleanup(cleanupIntervalMs + options.segmentDurationSeconds * 1000);
    return serialized(async () => {
      let playlist: Promise<StagedFile | HlsOutputError | null> | null = null;
      try {
        await Promise.all([ensureDirs(), measurePressure()]);
        // Segments that left the playlist go first: on a full disk the writes below need the space.
        await deleteDue(time);
        // The three files are written side by side: each is a chain of thread-pool round trips that
        // wakes the event loop, and parallel chains share wake-ups. Only the playlist waits: it goes
        // in place once the segment it lists is there. The state file may run ahead of both (a
        // restarted supervisor continues after the highest sequence anything recorded).
        const state = writeStateFile(); // never rejects; written even if the segment is not: its sequence is used up
        playlist = stagePlaylist();
        const target = path.join(paths.publicDir, segment.uri);
        try {
          await writeFileAtomic(target, data);
        } catch (error) {
          unwrittenSegments = true;
          throw new HlsOutputError(`cannot write ${target}: ${(error as Error).message}`, target, {
            cause: error,
          });
        } finally {
          await state;
        }
        // Listed segments whose writes failed earlier (a read-only spell): the file must not list them before they exist.
        if (unwrittenSegments) await restoreListedFiles(await regularFileNames(paths.publicDir));
      } catch (error) {
        const staged = await playlist;
        if (staged && !(staged instanceof HlsOutputError)) await staged.discard();
        throw error;
      } finally {
        // Written or not: from here on a missing file is restored from memory (restoreListedFiles).
        pendingWrites.delete(segment.uri);
      }
      await commitPlaylist(await playlist);
      await deleteDue(time);
      if (time - lastCleanupAt >= HEAL_INTERVAL_MS) {
        // The segment is written: a failed pass is the cleanup's failure, as on the timer, not this segment's.
        await cleanupPass().catch((error: unknown) => log.error({ err: error }, 'HLS cleanup failed'));
      }
      return segment;
    });
  }

  return {
    async start(intervalMs) {
      if (started) return;
      await ensureWritableDir(paths.outputDir);
      await ensureWritableDir(paths.publicDir);
      await serialized(restore);
      started = true;
      cleanupIntervalMs = intervalMs;
      scheduleCleanup(intervalMs);
    },

    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      started = false;
      await queue;
    },

    cleanup,

    prepareRun: () => serialized(() => ensureDirs(true)),

    windowSize: () => windowSize(pressure, live),

    retire(entries, time) {
      retained.push(...retire(entries, time));
    },

    persistSegment,

    idle: () => queue.then(() => {}),

    retained: () => retained,
  };
}
