/**
 * Start-up: what a previous supervisor left in the output dir (playlist, state file, files), and
 * the playlist this one continues from it (pure: continuedPlaylist, continuingSequence).
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.ts';
import { errorCode, HlsOutputError, listDir, regularFileSize } from './disk.ts';
import type { HlsPaths } from './paths.ts';
import {
  beginRun,
  dropMissing,
  initialTargetDuration,
  type ParsedPlaylist,
  type PlaylistEntry,
  type PlaylistModel,
  PlaylistParseError,
  parsePlaylist,
  SEGMENT_NAME_PATTERN,
  sequenceOfFileName,
} from './playlist.ts';
import { type RetainedSegment, retire } from './retention.ts';
import { type PublisherState, readState, StateFileError } from './state-file.ts';

/** The largest media sequence a segment name can carry (9 digits). */
const MAX_SEQUENCE = 999_999_999;
/**
 * Segment files on disk newer than what the playlist and state file know of are ours only within
 * this many sequence numbers (a crash between writing a segment and the state file leaves a few);
 * a stray file far beyond is not allowed to push the sequence towards the 9-digit limit.
 */
const MAX_UNRECORDED_SEQUENCES = 1000;

export interface PreviousOutput {
  /** The public playlist, or null when there is none (or it is unreadable). */
  playlist: ParsedPlaylist | null;
  /** The state file, or null when there is none (or it is unreadable). */
  state: PublisherState | null;
  /** Names in the public dir. */
  publicNames: string[];
  /** Size of each segment file the playlist lists, by name; null where it is missing or not a regular file. */
  listedFileBytes: ReadonlyMap<string, number | null>;
}

export async function readPreviousOutput(paths: HlsPaths, log: Logger): Promise<PreviousOutput> {
  let playlist: ParsedPlaylist | null = null;
  try {
    // O_NOFOLLOW: a symlink planted in place of our playlist is never adopted.
    playlist = parsePlaylist(
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
  const listedFileBytes = new Map<string, number | null>();
  for (const segment of playlist?.segments ?? []) {
    listedFileBytes.set(segment.uri, await regularFileSize(path.join(paths.publicDir, segment.uri)));
  }
  return { playlist, state, publicNames, listedFileBytes };
}

export interface ContinuedPlaylist {
  /** The playlist to continue, with a run begun. */
  model: PlaylistModel;
  /** Segments that left the playlist and still wait for their deletion. */
  retained: RetainedSegment[];
  /** Some listed segment files were missing: the playlist on disk no longer matches `model`. */
  droppedMissing: boolean;
}

/** The playlist a restarted supervisor continues, from what the previous one left (at `now`). */
export function continuedPlaylist(
  previous: PreviousOutput,
  segmentDurationSeconds: number,
  now: number,
): ContinuedPlaylist {
  const { playlist, state, publicNames } = previous;
  const entries: PlaylistEntry[] = [];
  const present = new Set<number>();
  for (const segment of playlist?.segments ?? []) {
    const bytes = previous.listedFileBytes.get(segment.uri) ?? null;
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
      initialTargetDuration(segmentDurationSeconds),
      playlist?.targetDurationSeconds ?? 0,
      state?.targetDurationSeconds ?? 0,
    ),
    discontinuitySequence: playlist?.discontinuitySequence ?? 0,
    nextSequence,
    discontinuityPending: false,
    // Longest playlist that held each entry: at least the restored playlist.
    entries: entries.map((entry) => ({
      ...entry,
      longestPlaylistSeconds: Math.max(entry.longestPlaylistSeconds, restoredSeconds),
    })),
  };
  const dropped = dropMissing(restored, (entry) => present.has(entry.segment.sequence));
  const model = beginRun(dropped.model);
  const listed = new Set(model.entries.map((entry) => entry.segment.uri));
  const retained = (state?.retained ?? []).filter(
    (segment) =>
      !listed.has(segment.uri) && SEGMENT_NAME_PATTERN.test(segment.uri) && publicNames.includes(segment.uri),
  );
  retained.push(...retire(dropped.removed, now));
  return { model, retained, droppedMissing: dropped.model !== restored };
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
