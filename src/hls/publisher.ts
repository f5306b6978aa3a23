/**
 * The HLS publisher: takes the parts the supervisor cuts from the pipeline's stream, lists them
 * at once (Low-Latency HLS, from memory), closes a segment with its last part (written to the
 * public dir under never-decreasing sequence numbers), keeps the public playlist (memory +
 * atomic file), answers blocking playlist reloads, and deletes old segments under RFC 8216
 * §6.2.2 retention and disk pressure.
 *
 * Layout under output_dir:
 *   desktop/            public, served at /hls/desktop/: playlist.m3u8 (plain HLS: whole segments),
 *                       seg-<9 digits>.ts, temp files; parts exist in memory only
 *   .state.json         what a restarted supervisor needs to continue (see state-file.ts)
 * Only files matching our exact name patterns are ever deleted; anything else is left alone.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import {
  dirExists,
  ensureWritableDir,
  errorCode,
  HlsOutputError,
  listDir,
  regularFileNames,
  regularFileSize,
  statfsUsage,
  TEMP_FILE_PATTERN,
  unlinkOurs,
  writeFileAtomic,
} from './disk.ts';
import { createLiveWindow } from './live-window.ts';
import { type LowLatencyTiming, lowLatencyTiming } from './low-latency.ts';
import { type HlsPaths, hlsPaths } from './paths.ts';
import {
  beginRun as beginRunOf,
  dropMissing,
  initialTargetDuration,
  mediaSequenceOf,
  PLAYLIST_FILE_NAME,
  type PlaylistEntry,
  type PlaylistModel,
  PlaylistParseError,
  parsePlaylist,
  SEGMENT_NAME_PATTERN,
  sequenceOfFileName,
} from './playlist.ts';
import {
  classifyDiskPressure,
  type DiskPressure,
  planDeletions,
  type RetainedSegment,
  retire,
  windowSize,
} from './retention.ts';
import { type PublisherState, readState, StateFileError, writeState } from './state-file.ts';
import type { HlsPublisher, HlsSnapshot, LiveEdge, PublicSegment, PublishedPart } from './types.ts';

export { type HlsPaths, hlsPaths, PUBLIC_DIR_NAME } from './paths.ts';

const PLAYLIST_NAME_PATTERN = /^playlist\.m3u8$/;
/** The largest media sequence a segment name can carry (9 digits). */
const MAX_SEQUENCE = 999_999_999;
/**
 * Segment files on disk newer than what the playlist and state file know of are ours only within
 * this many sequence numbers (a crash between writing a segment and the state file leaves a few);
 * a stray file far beyond is not allowed to push the sequence towards the 9-digit limit.
 */
const MAX_UNRECORDED_SEQUENCES = 1000;

/** publishPart() called with arguments that make no sense. */
export class InvalidSegmentError extends Error {
  override name = 'InvalidSegmentError';
}

/** The HlsPublisher contract plus in-memory access to the rendered playlist for HTTP. */
export interface LocalHlsPublisher extends HlsPublisher {
  /** The plain playlist (whole segments; what playlist.m3u8 on disk holds), or null while none exists. */
  playlistText(): string | null;
  /** The playlist served over HTTP: the same plus its Low-Latency HLS tags and parts (no disk I/O). */
  livePlaylistText(): string | null;
  /**
   * Resolves true once the playlist holds media sequence `msn` (whole, or up to part `part`), or a
   * later one; false after `timeoutMs` (blocking playlist reload, RFC 8216bis §6.2.5.2).
   */
  waitForMedia(msn: number, part: number | null, timeoutMs: number): Promise<boolean>;
  /** Where the playlist stands (see LiveEdge). */
  liveEdge(): LiveEdge;
  /** The bytes of a listed part, or null. */
  partData(name: string): Buffer | null;
  /** Called when a waitForMedia() that had to wait ends: how long it waited, and whether the media came. */
  onReloadWait(listener: (waitedSeconds: number, satisfied: boolean) => void): void;
  /**
   * The bytes of a segment the playlist lists now (kept in memory from when it was published),
   * or null: HTTP then reads the file. Players fetch exactly these, many times over.
   */
  listedSegmentData(name: string): Buffer | null;
  readonly paths: HlsPaths;
}

export interface HlsPublisherOptions {
  config: Config;
  /** Low-Latency HLS timing; lowLatencyTiming(config.fps) by default. */
  lowLatency?: LowLatencyTiming;
  logger: Logger;
  now?: () => number;
  diskUsage?: (dir: string) => Promise<{ usedPercent: number }>;
}

export function createHlsPublisher(options: HlsPublisherOptions): LocalHlsPublisher {
  const { config } = options;
  const live = config.live_streaming;
  const log = options.logger.child({ module: 'hls-publisher' });
  const now = options.now ?? Date.now;
  const diskUsage = options.diskUsage ?? statfsUsage;
  const paths = hlsPaths(config.output_dir);
  const timing = options.lowLatency ?? lowLatencyTiming(config.fps);

  const liveWindow = createLiveWindow({ segmentDurationSeconds: config.segment_duration, timing, now });
  let retained: RetainedSegment[] = [];
  /** Listed segments whose file is still being written: present, whatever the disk says yet. */
  const pendingWrites = new Set<string>();
  let pressure: DiskPressure = 'normal';
  let segmentsWrittenTotal = 0;
  let discontinuitiesTotal = 0;
  let lastSegmentAt: number | null = null;
  let started = false;
  let timer: NodeJS.Timeout | null = null;
  const listeners: Array<(segment: PublicSegment) => void> = [];
  const partListeners: Array<(part: PublishedPart) => void> = [];

  // One operation at a time: publish, cleanup and beginRun all rewrite the same state.
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

  async function writePlaylist(): Promise<void> {
    const text = liveWindow.renderPlainText();
    try {
      if (text === null) await unlinkOurs(paths.publicDir, PLAYLIST_FILE_NAME, PLAYLIST_NAME_PATTERN);
      else await writeFileAtomic(paths.playlistPath, text);
    } catch (error) {
      throw new HlsOutputError(
        `cannot write ${paths.playlistPath}: ${(error as Error).message}`,
        paths.playlistPath,
        {
          cause: error,
        },
      );
    }
  }

  async function writeStateFile(): Promise<void> {
    const model = liveWindow.model();
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

  /**
   * Forget listed/retained segments whose files vanished; true when the playlist changed.
   * `files` is what regularFileNames(publicDir) read.
   */
  async function reconcileWithDisk(files?: Set<string>): Promise<boolean> {
    const onDisk = files ?? (await regularFileNames(paths.publicDir));
    retained = retained.filter((segment) => onDisk.has(segment.uri));
    // A segment we hold in memory is still served (and its file written again, restoreListedFiles).
    const present = (uri: string) =>
      onDisk.has(uri) || pendingWrites.has(uri) || liveWindow.listedSegmentData(uri) !== null;
    const listedBefore = liveWindow.model().entries.length;
    const removed = liveWindow.dropMissing(present);
    if (removed === null) return false;
    log.warn(
      { listedBefore, listedAfter: liveWindow.model().entries.length },
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
    for (const { segment } of liveWindow.model().entries) {
      const data = liveWindow.listedSegmentData(segment.uri);
      if (!data || onDisk.has(segment.uri) || pendingWrites.has(segment.uri)) continue;
      await writeFileAtomic(path.join(paths.publicDir, segment.uri), data);
    }
  }

  /** Recreate the output dirs if they vanished (restoring the listed files we hold, forgetting the rest). */
  async function ensureDirs(): Promise<void> {
    const publicDirWasMissing = started && !(await dirExists(paths.publicDir));
    await ensureWritableDir(paths.publicDir);
    if (publicDirWasMissing) {
      log.warn({ dir: paths.publicDir }, 'public HLS directory was missing: recreated it');
      await reconcileWithDisk(new Set());
      await restoreListedFiles(new Set());
      await writePlaylist();
    }
  }

  async function deleteDue(time: number): Promise<{ removedFiles: number; removedBytes: number }> {
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

  /** Continue the playlist a previous supervisor left (playlist + state file), then sweep. */
  async function restore(): Promise<void> {
    let parsed: ReturnType<typeof parsePlaylist> | null = null;
    try {
      // O_NOFOLLOW: a symlink planted in place of our playlist is never adopted.
      parsed = parsePlaylist(
        await fs.readFile(paths.playlistPath, {
          encoding: 'utf8',
          flag: constants.O_RDONLY | constants.O_NOFOLLOW,
        }),
      );
    } catch (error) {
      if (error instanceof PlaylistParseError || errorCode(error) === 'ELOOP') {
        log.warn(
          { err: error, file: paths.playlistPath },
          'existing public playlist is unreadable (or a symlink); starting a new one',
        );
      } else if (errorCode(error) !== 'ENOENT') {
        throw new HlsOutputError(
          `cannot read ${paths.playlistPath}: ${(error as Error).message}`,
          paths.playlistPath,
          {
            cause: error,
          },
        );
      }
    }
    let state: PublisherState | null = null;
    try {
      state = await readState(paths.statePath);
    } catch (error) {
      if (!(error instanceof StateFileError)) throw error;
      log.warn(
        { err: error, file: paths.statePath },
        'HLS state file is unreadable; continuing from the playlist',
      );
    }

    const publicNames = await listDir(paths.publicDir);
    const entries: PlaylistEntry[] = [];
    const present = new Set<number>();
    for (const segment of parsed?.segments ?? []) {
      const bytes = await regularFileSize(path.join(paths.publicDir, segment.uri));
      if (bytes !== null) present.add(segment.sequence);
      const facts = state?.listed.find((listed) => listed.sequence === segment.sequence);
      entries.push({
        segment: { ...segment, bytes: bytes ?? 0, frames: facts?.frames ?? null },
        longestPlaylistSeconds: facts?.longestPlaylistSeconds ?? 0,
      });
    }
    const lastListed = entries.at(-1)?.segment.sequence ?? -1;
    const restoredSeconds = entries.reduce((sum, entry) => sum + entry.segment.durationSeconds, 0);
    const recordedNext = Math.max(
      state?.nextSequence ?? 0,
      lastListed + 1,
      ...(state?.retained ?? []).map((r) => r.sequence + 1),
    );
    const nextSequence = continuingSequence(
      recordedNext,
      publicNames.map(sequenceOfFileName).filter((s): s is number => s !== null),
    );
    const restored: PlaylistModel = {
      targetDurationSeconds: Math.max(
        initialTargetDuration(config.segment_duration),
        parsed?.targetDurationSeconds ?? 0,
        state?.targetDurationSeconds ?? 0,
      ),
      discontinuitySequence: parsed?.discontinuitySequence ?? 0,
      nextSequence,
      discontinuityPending: false,
      // Longest playlist that held each entry: at least the restored playlist.
      entries: entries.map((entry) => ({
        ...entry,
        longestPlaylistSeconds: Math.max(entry.longestPlaylistSeconds, restoredSeconds),
      })),
    };
    const dropped = dropMissing(restored, (entry) => present.has(entry.segment.sequence));
    liveWindow.replaceModel(beginRunOf(dropped.model));
    const model = liveWindow.model();
    const listed = new Set(model.entries.map((entry) => entry.segment.uri));
    retained = (state?.retained ?? []).filter(
      (segment) =>
        !listed.has(segment.uri) &&
        SEGMENT_NAME_PATTERN.test(segment.uri) &&
        publicNames.includes(segment.uri),
    );
    retained.push(...retire(dropped.removed, now()));
    liveWindow.renderPlainText();
    if (dropped.model !== restored) await writePlaylist();

    // Sweep: our files that nothing references any more. Foreign files are never touched.
    const referenced = new Set([...listed, ...retained.map((segment) => segment.uri)]);
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
    await writeStateFile();
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

  function cleanup(): Promise<{ removedFiles: number; removedBytes: number }> {
    return serialized(async () => {
      await ensureDirs();
      await measurePressure();
      const time = now();
      const files = await regularFileNames(paths.publicDir);
      let playlistChanged = await reconcileWithDisk(files);
      await restoreListedFiles(files);
      const slid = liveWindow.slide(windowSize(pressure, live));
      if (slid.length > 0) {
        retained.push(...retire(slid, time));
        playlistChanged = true;
      }
      if (playlistChanged || (liveWindow.plainText() !== null && !files.has(PLAYLIST_FILE_NAME))) {
        await writePlaylist();
      }
      const before = retained.length;
      const removed = await deleteDue(time);
      if (playlistChanged || retained.length !== before) await writeStateFile();
      if (removed.removedFiles > 0) log.debug({ ...removed, pressure }, 'deleted expired HLS segments');
      return removed;
    });
  }

  /**
   * The open segment is complete: list it at once (served from memory), then write its file, the
   * plain playlist and the state file in the background queue. The returned promise settles when
   * that disk work is done; it rejects when it failed (the segment stays listed and served).
   */
  function closeOpenSegment(): Promise<PublicSegment | null> {
    const time = now();
    const { segment, data, removed } = liveWindow.closeOpenSegment(windowSize(pressure, live));
    retained.push(...retire(removed, time));
    segmentsWrittenTotal += 1;
    if (segment.discontinuity) discontinuitiesTotal += 1;
    lastSegmentAt = time;
    pendingWrites.add(segment.uri);
    for (const listener of listeners) {
      try {
        listener(segment);
      } catch (error) {
        log.error({ err: error }, 'HLS segment listener threw');
      }
    }
    return serialized(async () => {
      try {
        await ensureDirs();
        await measurePressure();
        // Segments that left the playlist go first: on a full disk the writes below need the space.
        await deleteDue(time);
        const target = path.join(paths.publicDir, segment.uri);
        try {
          await writeFileAtomic(target, data);
        } catch (error) {
          await writeStateFile(); // the sequence is used up even so: it must never be reused
          throw new HlsOutputError(`cannot write ${target}: ${(error as Error).message}`, target, {
            cause: error,
          });
        }
      } finally {
        // Written or not: from here on a missing file is restored from memory (restoreListedFiles).
        pendingWrites.delete(segment.uri);
      }
      // Listed segments whose writes failed earlier (a read-only spell): the file must not list them before they exist.
      await restoreListedFiles(await regularFileNames(paths.publicDir));
      await writePlaylist();
      await deleteDue(time);
      await writeStateFile();
      return segment;
    });
  }

  function snapshot(): HlsSnapshot {
    const model = liveWindow.model();
    const onDisk = [
      ...model.entries.map((entry) => entry.segment.bytes),
      ...retained.map((segment) => segment.bytes),
    ];
    return {
      playlistPath: paths.playlistPath,
      publicDir: paths.publicDir,
      playlistExists: liveWindow.plainText() !== null,
      mediaSequence: mediaSequenceOf(model),
      discontinuitySequence: model.discontinuitySequence,
      targetDurationSeconds: model.targetDurationSeconds,
      segments: model.entries.map((entry) => ({ ...entry.segment })),
      segmentsWrittenTotal,
      discontinuitiesTotal,
      lastSegmentAt,
      filesOnDisk: onDisk.length,
      bytesOnDisk: onDisk.reduce((sum, bytes) => sum + bytes, 0),
    };
  }

  return {
    paths,

    async start() {
      if (started) return;
      await ensureWritableDir(paths.outputDir);
      await ensureWritableDir(paths.publicDir);
      await serialized(restore);
      started = true;
      const intervalMs = Math.max(1000, config.segment_duration * 1000);
      timer = setInterval(() => {
        cleanup().catch((error: unknown) => log.error({ err: error }, 'HLS cleanup failed'));
      }, intervalMs);
      timer.unref();
    },

    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      started = false;
      await queue;
    },

    beginRun() {
      // A producer that never said its last part ended.
      if (liveWindow.hasOpenSegment()) void closeOpenSegment().catch(() => {});
      liveWindow.beginRun();
      log.info({ discontinuity: liveWindow.model().discontinuityPending }, 'pipeline run begins');
      // Not awaited: parts and segments are served from memory, so a disk that is read-only, full
      // or hung (a write stuck in the kernel) must never hold up a new run.
      serialized(ensureDirs).catch((error: unknown) => {
        log.warn({ err: error, dir: paths.publicDir }, 'HLS output dir not writable: streaming from memory');
      });
      return Promise.resolve();
    },

    endRun() {
      if (liveWindow.hasOpenSegment()) closeOpenSegment();
      return queue.then(() => {});
    },

    publishPart(part) {
      if (!(Number.isFinite(part.durationSeconds) && part.durationSeconds > 0) || part.data.length === 0) {
        return Promise.reject(
          new InvalidSegmentError(
            `part of ${part.data.length} bytes lasting ${part.durationSeconds} s is not allowed: must have bytes and a finite duration > 0`,
          ),
        );
      }
      if (liveWindow.hasOpenSegment() && part.startsSegment) closeOpenSegment();
      if (!liveWindow.hasOpenSegment() && !part.independent) {
        return Promise.reject(
          new InvalidSegmentError('a segment must start with an independent part (a keyframe)'),
        );
      }
      const ref = liveWindow.appendPart(part);
      const written = part.endsSegment ? closeOpenSegment() : null;
      for (const listener of partListeners) listener({ ...ref, programDateTime: part.programDateTime });
      return written ?? Promise.resolve(null);
    },

    cleanup,
    snapshot,

    playlistText: liveWindow.plainText,
    livePlaylistText: liveWindow.livePlaylistText,
    listedSegmentData: liveWindow.listedSegmentData,
    partData: liveWindow.partData,
    liveEdge: liveWindow.liveEdge,
    waitForMedia: liveWindow.waitForMedia,
    onReloadWait: liveWindow.onReloadWait,

    onPart(listener) {
      partListeners.push(listener);
    },

    onSegment(listener) {
      listeners.push(listener);
    },
  };
}

/**
 * The sequence a restarted supervisor continues with: after everything the playlist and state
 * file recorded, and after any newer segment file of ours still on disk (its name must not be
 * reused while caches may hold it) — unless that file is implausibly far ahead (a stray file
 * must not push the sequence to the 9-digit limit, where every later segment would fail).
 */
export function continuingSequence(recordedNext: number, sequencesOnDisk: readonly number[]): number {
  const limit = Math.min(MAX_SEQUENCE, recordedNext + MAX_UNRECORDED_SEQUENCES);
  const plausible = sequencesOnDisk.filter((sequence) => sequence < limit);
  return Math.min(MAX_SEQUENCE, Math.max(recordedNext, ...plausible.map((sequence) => sequence + 1)));
}
