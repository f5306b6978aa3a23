/**
 * The public live playlist as a value: append a segment, slide the window, render the
 * M3U8 text, parse our own M3U8 back after a supervisor restart. Pure: no I/O, no clock.
 *
 * Target duration rule: RFC 8216 §4.3.3.1 requires every EXTINF, rounded to the nearest
 * integer, to be ≤ EXT-X-TARGETDURATION, and §6.2.1 forbids changing the target duration.
 * Both cannot hold if the encoder ever emits a segment longer than planned (a late keyframe),
 * so we start at ceil(segment_duration) and only ever RAISE it when such a segment appears:
 * a playlist whose EXTINF exceeds its target is invalid for every player, while a target that
 * grew once is tolerated by hls.js, Safari, VLC and ffmpeg. It never decreases.
 */
import type { PartRef, PublicSegment } from './types.ts';

export const PLAYLIST_FILE_NAME = 'playlist.m3u8';
export const SEGMENT_NAME_PATTERN = /^seg-(\d{9})\.ts$/;
/** A Low-Latency HLS part: `seg-<9-digit sequence>.p<index>.ts`, served from memory only. */
export const PART_NAME_PATTERN = /^seg-(\d{9})\.p(\d{1,4})\.ts$/;
const HLS_VERSION = 3;
/** EXT-X-PART, EXT-X-PRELOAD-HINT and blocking reload (RFC 8216bis) are protocol version 6 features. */
const LOW_LATENCY_HLS_VERSION = 6;
/** Parts are listed for the segments of the last three target durations only (RFC 8216bis §4.4.4.9). */
const PARTS_WINDOW_TARGET_DURATIONS = 3;

/** `seg-<9-digit sequence>.ts` */
export function segmentFileName(sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 0 || sequence > 999_999_999) {
    throw new RangeError(`segment sequence ${sequence} is not an integer in 0..999999999`);
  }
  return `seg-${String(sequence).padStart(9, '0')}.ts`;
}

/** `seg-<9-digit sequence>.p<index>.ts` */
export function partFileName(sequence: number, index: number): string {
  return `${segmentFileName(sequence).slice(0, -'.ts'.length)}.p${index}.ts`;
}

/** The sequence number encoded in one of our segment file names, or null for any other name. */
export function sequenceOfFileName(name: string): number | null {
  const match = SEGMENT_NAME_PATTERN.exec(name);
  return match ? Number(match[1]) : null;
}

export interface PlaylistEntry {
  segment: PublicSegment;
  /** Longest total duration (seconds) of any playlist that listed this segment (RFC 8216 §6.2.2). */
  longestPlaylistSeconds: number;
}

export interface PlaylistModel {
  targetDurationSeconds: number;
  discontinuitySequence: number;
  /** Sequence number the next appended segment gets. */
  nextSequence: number;
  /** The next appended segment is preceded by EXT-X-DISCONTINUITY. */
  discontinuityPending: boolean;
  /** Listed segments, oldest first, with consecutive sequence numbers. */
  entries: PlaylistEntry[];
}

export interface NewSegment {
  durationSeconds: number;
  bytes: number;
  programDateTime: number;
  frames: number | null;
}

export function emptyPlaylist(segmentDurationSeconds: number): PlaylistModel {
  return {
    targetDurationSeconds: initialTargetDuration(segmentDurationSeconds),
    discontinuitySequence: 0,
    nextSequence: 0,
    discontinuityPending: false,
    entries: [],
  };
}

export function initialTargetDuration(segmentDurationSeconds: number): number {
  return Math.max(1, Math.ceil(segmentDurationSeconds));
}

/** EXT-X-MEDIA-SEQUENCE: the first listed segment, or the next one when nothing is listed. */
export function mediaSequenceOf(model: PlaylistModel): number {
  return model.entries[0]?.segment.sequence ?? model.nextSequence;
}

export function totalDurationSeconds(model: PlaylistModel): number {
  return model.entries.reduce((sum, entry) => sum + entry.segment.durationSeconds, 0);
}

/** A new pipeline run begins: its first segment is a discontinuity, unless nothing was ever published. */
export function beginRun(model: PlaylistModel): PlaylistModel {
  return { ...model, discontinuityPending: model.nextSequence > 0 || model.entries.length > 0 };
}

export interface SlideResult {
  model: PlaylistModel;
  /** Entries that left the playlist (oldest first); their files must be retained for a while. */
  removed: PlaylistEntry[];
}

/** Keep only the newest `maxSegments` entries. */
export function slideWindow(model: PlaylistModel, maxSegments: number): SlideResult {
  const keep = Math.max(0, Math.floor(maxSegments));
  if (model.entries.length <= keep) return { model, removed: [] };
  const cut = model.entries.length - keep;
  return removeOldest(model, cut);
}

function removeOldest(model: PlaylistModel, count: number): SlideResult {
  const removed = model.entries.slice(0, count);
  const slidDiscontinuities = removed.filter((entry) => entry.segment.discontinuity).length;
  return {
    model: {
      ...model,
      discontinuitySequence: model.discontinuitySequence + slidDiscontinuities,
      entries: model.entries.slice(count),
    },
    removed,
  };
}

export interface AppendResult extends SlideResult {
  segment: PublicSegment;
}

/** Append the next segment, raise the target duration if needed, slide to `maxSegments`. */
export function appendSegment(model: PlaylistModel, input: NewSegment, maxSegments: number): AppendResult {
  if (!(Number.isFinite(input.durationSeconds) && input.durationSeconds > 0)) {
    throw new RangeError(`segment durationSeconds ${input.durationSeconds} must be a finite number > 0`);
  }
  const sequence = model.nextSequence;
  const segment: PublicSegment = {
    sequence,
    uri: segmentFileName(sequence),
    durationSeconds: input.durationSeconds,
    bytes: input.bytes,
    programDateTime: input.programDateTime,
    discontinuity: model.discontinuityPending,
    frames: input.frames,
  };
  const grown: PlaylistModel = {
    ...model,
    targetDurationSeconds: Math.max(model.targetDurationSeconds, roundedExtinf(input.durationSeconds)),
    nextSequence: sequence + 1,
    discontinuityPending: false,
    entries: [...model.entries, { segment, longestPlaylistSeconds: 0 }],
  };
  const slid = slideWindow(grown, Math.max(1, maxSegments));
  return { ...slid, model: withLongestPlaylist(slid.model), segment };
}

/** Record the current playlist length on every listed entry (they are all held by it now). */
function withLongestPlaylist(model: PlaylistModel): PlaylistModel {
  const total = totalDurationSeconds(model);
  return {
    ...model,
    entries: model.entries.map((entry) =>
      entry.longestPlaylistSeconds >= total ? entry : { ...entry, longestPlaylistSeconds: total },
    ),
  };
}

/**
 * Drop entries whose files vanished (e.g. the output dir was deleted). Sequence numbers in a
 * playlist must stay consecutive, so everything up to the newest missing entry goes.
 */
export function dropMissing(model: PlaylistModel, isPresent: (entry: PlaylistEntry) => boolean): SlideResult {
  let lastMissing = -1;
  model.entries.forEach((entry, index) => {
    if (!isPresent(entry)) lastMissing = index;
  });
  if (lastMissing < 0) return { model, removed: [] };
  const slid = removeOldest(model, lastMissing + 1);
  return {
    model: { ...slid.model, discontinuityPending: true },
    removed: slid.removed.filter(isPresent),
  };
}

function roundedExtinf(durationSeconds: number): number {
  return Math.round(Number(durationSeconds.toFixed(3)));
}

/** The segment being assembled from parts at the live edge (not yet in `entries`). */
export interface OpenSegment {
  sequence: number;
  discontinuity: boolean;
  programDateTime: number;
  parts: PartRef[];
}

export interface LowLatencyView {
  partTargetSeconds: number;
  /** PART-HOLD-BACK: how far behind the live edge a low-latency player stays (≥ 2 × part target). */
  partHoldBackSeconds: number;
  open: OpenSegment | null;
  /** URI of the next part, announced before it exists (EXT-X-PRELOAD-HINT); null while none is coming. */
  preloadHint: string | null;
}

function formatSeconds(seconds: number): string {
  return seconds.toFixed(3);
}

function partLines(parts: readonly PartRef[]): string[] {
  return parts.map(
    (part) =>
      `#EXT-X-PART:DURATION=${formatSeconds(part.durationSeconds)},URI="${part.uri}"${part.independent ? ',INDEPENDENT=YES' : ''}`,
  );
}

/**
 * How many of the newest entries keep their parts listed: those that end within three target
 * durations of the end of the playlist, which is the end of the open segment's parts when there is one.
 */
function entriesWithParts(model: PlaylistModel, open: OpenSegment | null): number {
  const window = PARTS_WINDOW_TARGET_DURATIONS * model.targetDurationSeconds;
  let seconds = (open?.parts ?? []).reduce((total, part) => total + part.durationSeconds, 0);
  let count = 0;
  // Half a millisecond of slack: durations summed from parts are not exact in floating point.
  for (let i = model.entries.length - 1; i >= 0 && seconds < window - 0.0005; i--) {
    seconds += model.entries[i]!.segment.durationSeconds;
    count++;
  }
  return count;
}

/** The parts of complete segments that a Low-Latency rendering lists. */
export function listedParts(model: PlaylistModel, open: OpenSegment | null = null): PartRef[] {
  return model.entries
    .slice(model.entries.length - entriesWithParts(model, open))
    .flatMap(({ segment }) => segment.parts ?? []);
}

/**
 * The M3U8 text; null while nothing is listed (a live playlist without segments helps no player).
 * With `lowLatency`, the Low-Latency HLS tags too (parts, server control, preload hint): plain-HLS
 * clients skip those tags and see the same segments.
 */
export function renderPlaylist(model: PlaylistModel, lowLatency?: LowLatencyView): string | null {
  if (model.entries.length === 0 && !lowLatency?.open?.parts.length) return null;
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${lowLatency ? LOW_LATENCY_HLS_VERSION : HLS_VERSION}`,
    `#EXT-X-TARGETDURATION:${model.targetDurationSeconds}`,
  ];
  if (lowLatency) {
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${formatSeconds(lowLatency.partHoldBackSeconds)}`,
      `#EXT-X-PART-INF:PART-TARGET=${formatSeconds(lowLatency.partTargetSeconds)}`,
    );
  }
  lines.push(
    `#EXT-X-MEDIA-SEQUENCE:${mediaSequenceOf(model)}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${model.discontinuitySequence}`,
  );
  const firstWithParts = model.entries.length - (lowLatency ? entriesWithParts(model, lowLatency.open) : 0);
  model.entries.forEach(({ segment }, index) => {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
    if (index >= firstWithParts && segment.parts) lines.push(...partLines(segment.parts));
    lines.push(`#EXTINF:${formatSeconds(segment.durationSeconds)},`);
    lines.push(segment.uri);
  });
  const open = lowLatency?.open;
  if (open && open.parts.length > 0) {
    if (open.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(open.programDateTime).toISOString()}`);
    lines.push(...partLines(open.parts));
  }
  if (lowLatency?.preloadHint) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${lowLatency.preloadHint}"`);
  return `${lines.join('\n')}\n`;
}

export class PlaylistParseError extends Error {
  override name = 'PlaylistParseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ParsedPlaylist {
  targetDurationSeconds: number;
  mediaSequence: number;
  discontinuitySequence: number;
  segments: Array<
    Pick<PublicSegment, 'sequence' | 'uri' | 'durationSeconds' | 'programDateTime' | 'discontinuity'>
  >;
}

/** Parse a playlist this module rendered (used to continue it after a supervisor restart). */
export function parsePlaylist(text: string): ParsedPlaylist {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== '#EXTM3U') throw new PlaylistParseError('playlist does not start with #EXTM3U');
  let targetDurationSeconds: number | null = null;
  let mediaSequence = 0;
  let discontinuitySequence = 0;
  const segments: ParsedPlaylist['segments'] = [];
  let pending: { discontinuity: boolean; programDateTime: number | null; durationSeconds: number | null } = {
    discontinuity: false,
    programDateTime: null,
    durationSeconds: null,
  };
  for (const [index, line] of lines.entries()) {
    if (line === '' || index === 0) continue;
    const [tag, value = ''] = splitTag(line);
    switch (tag) {
      case '#EXT-X-TARGETDURATION':
        targetDurationSeconds = parseNonNegativeInteger(value, tag);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        mediaSequence = parseNonNegativeInteger(value, tag);
        break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE':
        discontinuitySequence = parseNonNegativeInteger(value, tag);
        break;
      case '#EXT-X-DISCONTINUITY':
        pending.discontinuity = true;
        break;
      case '#EXT-X-PROGRAM-DATE-TIME': {
        const time = Date.parse(value);
        if (Number.isNaN(time))
          throw new PlaylistParseError(`${tag} value "${value}" is not an ISO 8601 date`);
        pending.programDateTime = time;
        break;
      }
      case '#EXTINF': {
        const duration = Number(value.split(',')[0]);
        if (!(Number.isFinite(duration) && duration > 0)) {
          throw new PlaylistParseError(`#EXTINF value "${value}" is not a positive duration`);
        }
        pending.durationSeconds = duration;
        break;
      }
      default: {
        if (line.startsWith('#')) break;
        if (pending.durationSeconds === null)
          throw new PlaylistParseError(`segment "${line}" has no #EXTINF`);
        const sequence = mediaSequence + segments.length;
        if (sequenceOfFileName(line) !== sequence) {
          throw new PlaylistParseError(
            `segment "${line}" is not ${segmentFileName(sequence)} (sequence ${sequence})`,
          );
        }
        segments.push({
          sequence,
          uri: line,
          durationSeconds: pending.durationSeconds,
          programDateTime: pending.programDateTime ?? 0,
          discontinuity: pending.discontinuity,
        });
        pending = { discontinuity: false, programDateTime: null, durationSeconds: null };
      }
    }
  }
  if (targetDurationSeconds === null) throw new PlaylistParseError('playlist has no #EXT-X-TARGETDURATION');
  return { targetDurationSeconds, mediaSequence, discontinuitySequence, segments };
}

function splitTag(line: string): [string, string?] {
  const colon = line.indexOf(':');
  return colon < 0 ? [line] : [line.slice(0, colon), line.slice(colon + 1)];
}

function parseNonNegativeInteger(value: string, tag: string): number {
  if (!/^\d+$/.test(value))
    throw new PlaylistParseError(`${tag} value "${value}" is not a non-negative integer`);
  return Number(value);
}
