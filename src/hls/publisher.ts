/**
 * The HLS publisher: moves the segments hlssink2 closes (in a private per-run work dir) into
 * the public dir under never-decreasing sequence numbers, keeps the public playlist (memory +
 * atomic file), and deletes old segments under RFC 8216 §6.2.2 retention and disk pressure.
 *
 * Layout under output_dir:
 *   desktop/            public, served at /hls/desktop/: playlist.m3u8, seg-<9 digits>.ts, temp files
 *   .work/run-<n>/      hlssink2's work dir of one pipeline run (its own playlist is ignored)
 *   .state.json         what a restarted supervisor needs to continue (see state-file.ts)
 * Only files matching our exact name patterns are ever deleted; anything else is left alone.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import {
  dirExists,
  ensureWritableDir,
  errorCode,
  HlsOutputError,
  listDir,
  moveFile,
  regularFileNames,
  regularFileSize,
  statfsUsage,
  TEMP_FILE_PATTERN,
  unlinkOurs,
  writeFileAtomic,
} from './disk.ts';
import {
  appendSegment,
  beginRun as beginRunOf,
  dropMissing,
  emptyPlaylist,
  initialTargetDuration,
  mediaSequenceOf,
  PLAYLIST_FILE_NAME,
  type PlaylistEntry,
  type PlaylistModel,
  PlaylistParseError,
  parsePlaylist,
  renderPlaylist,
  SEGMENT_NAME_PATTERN,
  segmentFileName,
  sequenceOfFileName,
  slideWindow,
} from './playlist.ts';
import {
  classifyDiskPressure,
  type DiskPressure,
  planDeletions,
  type RetainedSegment,
  retire,
  windowSize,
} from './retention.ts';
import { type PublisherState, readState, STATE_FILE_NAME, StateFileError, writeState } from './state-file.ts';
import { countVideoFrames } from './ts-frames.ts';
import type { HlsPublisher, HlsSnapshot, PublicSegment } from './types.ts';

export const PUBLIC_DIR_NAME = 'desktop';
export const WORK_DIR_NAME = '.work';
const RUN_DIR_PATTERN = /^run-\d+$/;
const PLAYLIST_NAME_PATTERN = /^playlist\.m3u8$/;
/** Within a run, PROGRAM-DATE-TIME continues from the previous segment unless the wall clock is this far off. */
const PDT_MAX_DRIFT_MS = 1000;

export interface HlsPaths {
  outputDir: string;
  publicDir: string;
  playlistPath: string;
  workRoot: string;
  statePath: string;
}

export function hlsPaths(outputDir: string): HlsPaths {
  const root = path.resolve(outputDir);
  const publicDir = path.join(root, PUBLIC_DIR_NAME);
  return {
    outputDir: root,
    publicDir,
    playlistPath: path.join(publicDir, PLAYLIST_FILE_NAME),
    workRoot: path.join(root, WORK_DIR_NAME),
    statePath: path.join(root, STATE_FILE_NAME),
  };
}

/** publishSegment()/beginRun() called with arguments or at a time that make no sense. */
export class InvalidSegmentError extends Error {
  override name = 'InvalidSegmentError';
}

/** The HlsPublisher contract plus in-memory access to the rendered playlist for HTTP. */
export interface LocalHlsPublisher extends HlsPublisher {
  /** The current public playlist text (no disk I/O), or null while none exists. */
  playlistText(): string | null;
  /**
   * The bytes of a segment the playlist lists now (kept in memory from when it was published),
   * or null: HTTP then reads the file. Players fetch exactly these, many times over.
   */
  listedSegmentData(name: string): Buffer | null;
  readonly paths: HlsPaths;
}

export interface HlsPublisherOptions {
  config: Config;
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

  let model: PlaylistModel = emptyPlaylist(config.segment_duration);
  let retained: RetainedSegment[] = [];
  let text: string | null = null;
  /** Bytes of the listed segments published by this process, by file name. */
  const listedData = new Map<string, Buffer>();
  function keepListedData(): void {
    const listed = new Set(model.entries.map((entry) => entry.segment.uri));
    for (const name of listedData.keys()) if (!listed.has(name)) listedData.delete(name);
  }
  let pressure: DiskPressure = 'normal';
  let runDir: string | null = null;
  let runCounter = 0;
  let pdtEnd: number | null = null;
  let segmentsWrittenTotal = 0;
  let discontinuitiesTotal = 0;
  let lastSegmentAt: number | null = null;
  let started = false;
  let timer: NodeJS.Timeout | null = null;
  const listeners: Array<(segment: PublicSegment) => void> = [];

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
    text = renderPlaylist(model);
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
    const dropped = dropMissing(model, (entry) => onDisk.has(entry.segment.uri));
    if (dropped.model === model) return false;
    log.warn(
      { listedBefore: model.entries.length, listedAfter: dropped.model.entries.length },
      'segment files of the public playlist vanished from disk; dropped them from the playlist',
    );
    retained.push(...retire(dropped.removed, now()));
    model = dropped.model;
    keepListedData();
    return true;
  }

  /** Recreate the output dirs if they vanished (reconciling the playlist with what is left). */
  async function ensureDirs(): Promise<void> {
    const publicDirWasMissing = started && !(await dirExists(paths.publicDir));
    await ensureWritableDir(paths.publicDir);
    await ensureWritableDir(paths.workRoot);
    if (publicDirWasMissing) {
      log.warn({ dir: paths.publicDir }, 'public HLS directory was missing: recreated it');
      if (await reconcileWithDisk()) await writePlaylist();
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

  function programDateTimeFor(time: number, durationSeconds: number): number {
    const fromClock = Math.round(time - durationSeconds * 1000);
    if (pdtEnd !== null && Math.abs(fromClock - pdtEnd) <= PDT_MAX_DRIFT_MS) return pdtEnd;
    return fromClock;
  }

  /** Continue the playlist a previous supervisor left (playlist + state file), then sweep. */
  async function restore(): Promise<void> {
    let parsed: ReturnType<typeof parsePlaylist> | null = null;
    try {
      parsed = parsePlaylist(await fs.readFile(paths.playlistPath, 'utf8'));
    } catch (error) {
      if (error instanceof PlaylistParseError) {
        log.warn(
          { err: error, file: paths.playlistPath },
          'existing public playlist is unreadable; starting a new one',
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
    const sequencesOnDisk = publicNames.map(sequenceOfFileName).filter((s): s is number => s !== null);
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
    const restored: PlaylistModel = {
      targetDurationSeconds: Math.max(
        initialTargetDuration(config.segment_duration),
        parsed?.targetDurationSeconds ?? 0,
        state?.targetDurationSeconds ?? 0,
      ),
      discontinuitySequence: parsed?.discontinuitySequence ?? 0,
      nextSequence: Math.max(
        state?.nextSequence ?? 0,
        lastListed + 1,
        ...sequencesOnDisk.map((s) => s + 1),
        ...(state?.retained ?? []).map((r) => r.sequence + 1),
      ),
      discontinuityPending: false,
      // Longest playlist that held each entry: at least the restored playlist.
      entries: entries.map((entry) => ({
        ...entry,
        longestPlaylistSeconds: Math.max(entry.longestPlaylistSeconds, restoredSeconds),
      })),
    };
    const dropped = dropMissing(restored, (entry) => present.has(entry.segment.sequence));
    model = beginRunOf(dropped.model);
    const listed = new Set(model.entries.map((entry) => entry.segment.uri));
    retained = (state?.retained ?? []).filter(
      (segment) =>
        !listed.has(segment.uri) &&
        SEGMENT_NAME_PATTERN.test(segment.uri) &&
        publicNames.includes(segment.uri),
    );
    retained.push(...retire(dropped.removed, now()));
    text = renderPlaylist(model);
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
    for (const name of await listDir(paths.workRoot)) {
      if (RUN_DIR_PATTERN.test(name))
        await fs.rm(path.join(paths.workRoot, name), { recursive: true, force: true });
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
      const slid = slideWindow(model, windowSize(pressure, live));
      if (slid.removed.length > 0) {
        model = slid.model;
        keepListedData();
        retained.push(...retire(slid.removed, time));
        playlistChanged = true;
      }
      if (playlistChanged || (text !== null && !files.has(PLAYLIST_FILE_NAME))) {
        await writePlaylist();
      }
      const before = retained.length;
      const removed = await deleteDue(time);
      if (playlistChanged || retained.length !== before) await writeStateFile();
      if (removed.removedFiles > 0) log.debug({ ...removed, pressure }, 'deleted expired HLS segments');
      return removed;
    });
  }

  function snapshot(): HlsSnapshot {
    const onDisk = [
      ...model.entries.map((entry) => entry.segment.bytes),
      ...retained.map((segment) => segment.bytes),
    ];
    return {
      playlistPath: paths.playlistPath,
      publicDir: paths.publicDir,
      playlistExists: text !== null,
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
      await ensureWritableDir(paths.workRoot);
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
      return serialized(async () => {
        await ensureDirs();
        if (runDir) await fs.rm(runDir, { recursive: true, force: true });
        runCounter += 1;
        const dir = path.join(paths.workRoot, `run-${runCounter}`);
        await fs.rm(dir, { recursive: true, force: true });
        try {
          await fs.mkdir(dir);
        } catch (error) {
          throw new HlsOutputError(`cannot create work directory ${dir}: ${(error as Error).message}`, dir, {
            cause: error,
          });
        }
        runDir = dir;
        model = beginRunOf(model);
        pdtEnd = null;
        log.info({ workDir: dir, discontinuity: model.discontinuityPending }, 'pipeline run begins');
        return dir;
      });
    },

    publishSegment(workFile, durationSeconds, startedAt) {
      if (!(Number.isFinite(durationSeconds) && durationSeconds > 0)) {
        return Promise.reject(
          new InvalidSegmentError(
            `durationSeconds ${durationSeconds} is not allowed: must be a finite number > 0`,
          ),
        );
      }
      return serialized(async () => {
        if (runDir === null) throw new InvalidSegmentError('publishSegment() called before beginRun()');
        const source = path.resolve(workFile);
        if (path.dirname(source) !== runDir) {
          throw new InvalidSegmentError(
            `workFile ${workFile} is not allowed: must be inside the run dir ${runDir}`,
          );
        }
        await ensureDirs();
        let data: Buffer;
        try {
          data = await fs.readFile(source);
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') throw error;
          log.warn({ workFile }, 'closed segment is missing from the work dir; skipped');
          return null;
        }
        if (data.length === 0) {
          log.warn({ workFile }, 'closed segment is empty; skipped');
          return null;
        }
        let frames: number | null = null;
        try {
          frames = countVideoFrames(data);
        } catch (error) {
          log.warn({ err: error, workFile }, 'cannot count frames of a segment');
        }
        await measurePressure();
        const time = now();
        const target = path.join(paths.publicDir, segmentFileName(model.nextSequence));
        try {
          await moveFile(source, target);
        } catch (error) {
          if ((await regularFileSize(source)) === null) {
            log.warn({ workFile }, 'closed segment vanished before it could be published; skipped');
            return null;
          }
          throw new HlsOutputError(
            `cannot move ${source} to ${target}: ${(error as Error).message}`,
            target,
            {
              cause: error,
            },
          );
        }
        // hlssink2 closes a segment one GOP late, so "now − duration" is late by that much:
        // the pipeline's own timing (startedAt) is preferred.
        const programDateTime = startedAt ?? programDateTimeFor(time, durationSeconds);
        // Segments that left the playlist in an earlier write go first: on a full disk the
        // playlist write below needs the space.
        await deleteDue(time);
        const result = appendSegment(
          model,
          { durationSeconds, bytes: data.length, programDateTime, frames },
          windowSize(pressure, live),
        );
        model = result.model;
        listedData.set(result.segment.uri, data);
        keepListedData();
        pdtEnd = programDateTime + Math.round(durationSeconds * 1000);
        retained.push(...retire(result.removed, time));
        segmentsWrittenTotal += 1;
        if (result.segment.discontinuity) discontinuitiesTotal += 1;
        lastSegmentAt = time;
        // The segment is public from here on (HTTP serves the playlist from memory), even if
        // the playlist file cannot be written: that error is raised after the bookkeeping.
        let writeError: unknown = null;
        try {
          await writePlaylist();
          await deleteDue(time);
        } catch (error) {
          writeError = error;
        }
        await writeStateFile();
        for (const listener of listeners) {
          try {
            listener(result.segment);
          } catch (error) {
            log.error({ err: error }, 'HLS segment listener threw');
          }
        }
        if (writeError) throw writeError;
        return result.segment;
      });
    },

    cleanup,
    snapshot,

    playlistText() {
      return text;
    },

    listedSegmentData(name) {
      return listedData.get(name) ?? null;
    },

    onSegment(listener) {
      listeners.push(listener);
    },
  };
}
