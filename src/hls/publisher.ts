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
import { type LowLatencyTiming, lowLatencyTiming } from './low-latency.ts';
import { type HlsPaths, hlsPaths } from './paths.ts';
import {
  appendSegment,
  beginRun as beginRunOf,
  dropMissing,
  emptyPlaylist,
  initialTargetDuration,
  type LowLatencyView,
  listedParts,
  mediaSequenceOf,
  type OpenSegment,
  PART_NAME_PATTERN,
  PLAYLIST_FILE_NAME,
  type PlaylistEntry,
  type PlaylistModel,
  PlaylistParseError,
  parsePlaylist,
  partFileName,
  renderPlaylist,
  SEGMENT_NAME_PATTERN,
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
import { type PublisherState, readState, StateFileError, writeState } from './state-file.ts';
import type { HlsPublisher, HlsSnapshot, LiveEdge, PartRef, PublicSegment, PublishedPart } from './types.ts';

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

  let model: PlaylistModel = emptyPlaylist(config.segment_duration);
  let retained: RetainedSegment[] = [];
  /** The plain playlist (whole segments), as written to disk. */
  let text: string | null = null;
  /** The playlist served over HTTP: the same segments plus parts, server control and preload hint. */
  let liveText: string | null = null;
  /** The model or the open segment changed since liveText was rendered (it is rendered when asked for). */
  let liveStale = true;
  /** The segment being assembled from parts, with their bytes. */
  let open: (OpenSegment & { data: Buffer[]; frames: number }) | null = null;
  /**
   * The next part is announced by EXT-X-PRELOAD-HINT once a run has begun, and stays announced
   * between runs: a restart only pauses the stream, and hls.js misreads a low-latency playlist
   * that ends without a hint (it counts the last segment twice).
   */
  let hinting = false;
  /** Bytes of the listed segments published by this process, by file name. */
  const listedData = new Map<string, Buffer>();
  /** Listed segments whose file is still being written: present, whatever the disk says yet. */
  const pendingWrites = new Set<string>();
  /** Bytes of the parts still listed (open segment and the newest segments), by file name. */
  const partBytes = new Map<string, Buffer>();
  function keepListedData(): void {
    const listed = new Set(model.entries.map((entry) => entry.segment.uri));
    for (const name of listedData.keys()) if (!listed.has(name)) listedData.delete(name);
  }
  let pressure: DiskPressure = 'normal';
  let segmentsWrittenTotal = 0;
  let discontinuitiesTotal = 0;
  let lastSegmentAt: number | null = null;
  let started = false;
  let timer: NodeJS.Timeout | null = null;
  const listeners: Array<(segment: PublicSegment) => void> = [];
  const partListeners: Array<(part: PublishedPart) => void> = [];
  const reloadWaitListeners: Array<(waitedSeconds: number, satisfied: boolean) => void> = [];
  interface Waiter {
    msn: number;
    part: number | null;
    resolve: (ready: boolean) => void;
  }
  const waiters = new Set<Waiter>();

  function liveEdge(): LiveEdge {
    const msn = open ? open.sequence : model.nextSequence;
    return { msn, parts: open?.parts.length ?? 0, hinted: hinting };
  }

  /** Segment `msn` is complete, or its part `part` is listed, or something later is. */
  function holds(msn: number, part: number | null): boolean {
    const edge = liveEdge();
    if (msn < edge.msn) return true;
    return msn === edge.msn && part !== null && part < edge.parts;
  }

  /** The served playlist changed: render it again when next asked for, and wake the reloads it satisfies. */
  function refreshLive(): void {
    liveStale = true;
    for (const waiter of waiters) {
      if (!holds(waiter.msn, waiter.part)) continue;
      waiters.delete(waiter);
      waiter.resolve(true);
    }
  }

  /** Forget the bytes of parts no longer listed: only the open segment's and the newest segments' stay. */
  function keepListedParts(): void {
    const listed = new Set([...(open?.parts ?? []), ...listedParts(model)].map((part) => part.uri));
    for (const name of partBytes.keys()) if (!listed.has(name)) partBytes.delete(name);
  }

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
    refreshLive();
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
    // A segment we hold in memory is still served (and its file written again, restoreListedFiles).
    const present = (uri: string) => onDisk.has(uri) || pendingWrites.has(uri) || listedData.has(uri);
    const dropped = dropMissing(model, (entry) => present(entry.segment.uri));
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

  /**
   * Listed segments held in memory whose file is missing (the output dir was wiped, or the write
   * failed on a read-only or full disk): write them again, so that the files match the playlist.
   */
  async function restoreListedFiles(onDisk: Set<string>): Promise<void> {
    for (const { segment } of model.entries) {
      const data = listedData.get(segment.uri);
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
    refreshLive();
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
      const slid = slideWindow(model, windowSize(pressure, live));
      if (slid.removed.length > 0) {
        model = slid.model;
        keepListedData();
        keepListedParts();
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

  /**
   * The open segment is complete: list it at once (served from memory), then write its file, the
   * plain playlist and the state file in the background queue. The returned promise settles when
   * that disk work is done; it rejects when it failed (the segment stays listed and served).
   */
  function closeOpenSegment(): Promise<PublicSegment | null> {
    const closing = open!;
    open = null;
    const data = Buffer.concat(closing.data);
    const time = now();
    // In whole milliseconds, as the playlist writes it: ten 0.2 s parts make 2, not 1.9999999999999998.
    const durationSeconds =
      Math.round(closing.parts.reduce((sum, part) => sum + part.durationSeconds, 0) * 1000) / 1000;
    const result = appendSegment(
      model,
      {
        durationSeconds,
        bytes: data.length,
        programDateTime: closing.programDateTime,
        frames: closing.frames,
      },
      windowSize(pressure, live),
    );
    const segment: PublicSegment = { ...result.segment, parts: closing.parts };
    model = result.model;
    model.entries[model.entries.length - 1] = { ...model.entries.at(-1)!, segment };
    listedData.set(segment.uri, data);
    keepListedData();
    keepListedParts();
    retained.push(...retire(result.removed, time));
    segmentsWrittenTotal += 1;
    if (segment.discontinuity) discontinuitiesTotal += 1;
    lastSegmentAt = time;
    pendingWrites.add(segment.uri);
    refreshLive();
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
      if (open) void closeOpenSegment().catch(() => {}); // a producer that never said its last part ended
      model = beginRunOf(model);
      hinting = true;
      refreshLive();
      log.info({ discontinuity: model.discontinuityPending }, 'pipeline run begins');
      // Not awaited: parts and segments are served from memory, so a disk that is read-only, full
      // or hung (a write stuck in the kernel) must never hold up a new run.
      serialized(ensureDirs).catch((error: unknown) => {
        log.warn({ err: error, dir: paths.publicDir }, 'HLS output dir not writable: streaming from memory');
      });
      return Promise.resolve();
    },

    endRun() {
      if (open) closeOpenSegment();
      refreshLive();
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
      if (open && part.startsSegment) closeOpenSegment();
      if (!open) {
        if (!part.independent) {
          return Promise.reject(
            new InvalidSegmentError('a segment must start with an independent part (a keyframe)'),
          );
        }
        open = {
          sequence: model.nextSequence,
          discontinuity: model.discontinuityPending,
          programDateTime: part.programDateTime,
          parts: [],
          data: [],
          frames: 0,
        };
      }
      const ref: PartRef = {
        uri: partFileName(open.sequence, open.parts.length),
        durationSeconds: part.durationSeconds,
        independent: part.independent,
      };
      open.parts.push(ref);
      open.data.push(part.data);
      open.frames += part.frames;
      partBytes.set(ref.uri, part.data);
      const written = part.endsSegment ? closeOpenSegment() : null;
      refreshLive();
      for (const listener of partListeners) listener({ ...ref, programDateTime: part.programDateTime });
      return written ?? Promise.resolve(null);
    },

    cleanup,
    snapshot,

    playlistText() {
      return text;
    },

    livePlaylistText() {
      if (liveStale) {
        const view: LowLatencyView = {
          ...timing,
          open,
          preloadHint: hinting
            ? partFileName(open?.sequence ?? model.nextSequence, open?.parts.length ?? 0)
            : null,
        };
        liveText = renderPlaylist(model, view);
        liveStale = false;
      }
      return liveText;
    },

    listedSegmentData(name) {
      return listedData.get(name) ?? null;
    },

    partData(name) {
      return PART_NAME_PATTERN.test(name) ? (partBytes.get(name) ?? null) : null;
    },

    liveEdge,

    waitForMedia(msn, part, timeoutMs) {
      if (holds(msn, part)) return Promise.resolve(true);
      const started = now();
      return new Promise<boolean>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const settle = (ready: boolean) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          for (const listener of reloadWaitListeners) listener((now() - started) / 1000, ready);
          resolve(ready);
        };
        const waiter: Waiter = { msn, part, resolve: settle };
        timer = setTimeout(() => settle(false), timeoutMs);
        waiters.add(waiter);
      });
    },

    onReloadWait(listener) {
      reloadWaitListeners.push(listener);
    },

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
