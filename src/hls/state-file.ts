/**
 * `<output_dir>/.state.json`: what the public playlist cannot tell a restarted supervisor —
 * the next sequence number, segments that left the playlist but must stay on disk (with their
 * deadlines), and per-segment facts not in the M3U8 (bytes, frames, longest playlist held in).
 */
import { constants, promises as fs } from 'node:fs';
import { errorCode, writeFileAtomic } from './disk.ts';
import type { RetainedSegment } from './retention.ts';

export const STATE_FILE_NAME = '.state.json';
const STATE_VERSION = 1;

export interface ListedSegmentFacts {
  sequence: number;
  frames: number | null;
  longestPlaylistSeconds: number;
}

export interface PublisherState {
  version: typeof STATE_VERSION;
  nextSequence: number;
  targetDurationSeconds: number;
  listed: ListedSegmentFacts[];
  retained: RetainedSegment[];
}

export class StateFileError extends Error {
  override name = 'StateFileError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function isRetained(value: unknown): value is RetainedSegment {
  const v = value as Record<string, unknown>;
  return (
    typeof v === 'object' &&
    v !== null &&
    isCount(v.sequence) &&
    typeof v.uri === 'string' &&
    isCount(v.bytes) &&
    isTime(v.removedAt) &&
    isTime(v.earliestDeleteAt) &&
    isTime(v.deleteAt)
  );
}

function isListedFacts(value: unknown): value is ListedSegmentFacts {
  const v = value as Record<string, unknown>;
  return (
    typeof v === 'object' &&
    v !== null &&
    isCount(v.sequence) &&
    (v.frames === null || isCount(v.frames)) &&
    isTime(v.longestPlaylistSeconds)
  );
}

/** Validate a parsed state file; throws StateFileError naming the first bad field. */
export function validateState(value: unknown): PublisherState {
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || v === null) throw new StateFileError('state is not a JSON object');
  if (v.version !== STATE_VERSION)
    throw new StateFileError(`state version ${String(v.version)} is not ${STATE_VERSION}`);
  if (!isCount(v.nextSequence))
    throw new StateFileError(`state nextSequence ${String(v.nextSequence)} is not a count`);
  if (!isCount(v.targetDurationSeconds)) {
    throw new StateFileError(`state targetDurationSeconds ${String(v.targetDurationSeconds)} is not a count`);
  }
  if (!Array.isArray(v.listed) || !v.listed.every(isListedFacts)) {
    throw new StateFileError('state listed is not an array of {sequence, frames, longestPlaylistSeconds}');
  }
  if (!Array.isArray(v.retained) || !v.retained.every(isRetained)) {
    throw new StateFileError('state retained is not an array of retained segments');
  }
  return v as unknown as PublisherState;
}

/** The state, or null when there is none. A corrupt file throws StateFileError. */
export async function readState(file: string): Promise<PublisherState | null> {
  let text: string;
  try {
    text = await fs.readFile(file, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw new StateFileError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return validateState(JSON.parse(text));
  } catch (error) {
    if (error instanceof StateFileError) throw error;
    throw new StateFileError(`${file} is not valid JSON`, { cause: error });
  }
}

export async function writeState(file: string, state: PublisherState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state)}\n`);
}
