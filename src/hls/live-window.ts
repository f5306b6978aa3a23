/**
 * The live window, in memory only: the listed segments (the playlist model), the segment being
 * assembled from parts, the bytes of what is listed, the rendered playlists, and the blocking
 * playlist reloads waiting for media that is not listed yet. No disk I/O: the disk keeper writes
 * what this holds.
 */
import type { LowLatencyTiming } from './low-latency.ts';
import {
  appendSegment,
  beginRun as beginRunOf,
  dropMissing,
  emptyPlaylist,
  type LowLatencyView,
  listedParts,
  type OpenSegment,
  PART_NAME_PATTERN,
  type PlaylistEntry,
  type PlaylistModel,
  partFileName,
  renderPlaylist,
  slideWindow,
} from './playlist.ts';
import type { LiveEdge, NewPart, PartRef, PublicSegment } from './types.ts';

export interface ClosedSegment {
  segment: PublicSegment;
  data: Buffer;
  /** Entries pushed out of the playlist by it (to retire). */
  removed: PlaylistEntry[];
}

export interface LiveWindow {
  /** The listed (complete) segments. */
  model(): PlaylistModel;
  hasOpenSegment(): boolean;
  /** A pipeline run begins: the next segment is a discontinuity (if anything came before), the next part is announced. */
  beginRun(): void;
  /** List a part at the live edge, opening a segment when none is open (the caller checks it is independent). */
  appendPart(part: NewPart): PartRef;
  /** List the open segment as complete, in a playlist of at most `maxSegments`. */
  closeOpenSegment(maxSegments: number): ClosedSegment;
  /** Keep the newest `maxSegments`; returns the entries that left. */
  slide(maxSegments: number): PlaylistEntry[];
  /**
   * Drop listed segments that are not present (and everything older: sequences stay consecutive).
   * Null when all are present; otherwise the entries that left but do exist (to retire).
   */
  dropMissing(isPresent: (uri: string) => boolean): PlaylistEntry[] | null;
  /** Continue from a playlist restored from disk. */
  replaceModel(model: PlaylistModel): void;
  /** Render the plain playlist from the listed segments now: what playlistText() returns from here on. */
  renderPlainText(): string | null;
  /** The plain playlist (whole segments) as last rendered for the disk, or null while none exists. */
  plainText(): string | null;
  /** The playlist served over HTTP: the listed segments plus parts, server control and preload hint. */
  livePlaylistText(): string | null;
  liveEdge(): LiveEdge;
  /** The bytes of a listed segment published by this process, or null. */
  listedSegmentData(name: string): Buffer | null;
  /** The bytes of a listed part, or null. */
  partData(name: string): Buffer | null;
  /** See LocalHlsPublisher.waitForMedia. */
  waitForMedia(msn: number, part: number | null, timeoutMs: number): Promise<boolean>;
  onReloadWait(listener: (waitedSeconds: number, satisfied: boolean) => void): void;
}

export interface LiveWindowOptions {
  segmentDurationSeconds: number;
  timing: LowLatencyTiming;
  now: () => number;
}

interface Waiter {
  msn: number;
  part: number | null;
  resolve: (ready: boolean) => void;
}

export function createLiveWindow(options: LiveWindowOptions): LiveWindow {
  const { timing, now } = options;
  let model: PlaylistModel = emptyPlaylist(options.segmentDurationSeconds);
  let open: (OpenSegment & { data: Buffer[]; frames: number }) | null = null;
  /**
   * The next part is announced by EXT-X-PRELOAD-HINT once a run has begun, and stays announced
   * between runs: a restart only pauses the stream, and hls.js misreads a low-latency playlist
   * that ends without a hint (it counts the last segment twice).
   */
  let hinting = false;
  let plain: string | null = null;
  let live: string | null = null;
  /** The model or the open segment changed since `live` was rendered (it is rendered when asked for). */
  let liveStale = true;
  /** Bytes of the listed segments published by this process, by file name. */
  const segmentBytes = new Map<string, Buffer>();
  /** Bytes of the parts still listed (open segment and the newest segments), by file name. */
  const partBytes = new Map<string, Buffer>();
  const waiters = new Set<Waiter>();
  const reloadWaitListeners: Array<(waitedSeconds: number, satisfied: boolean) => void> = [];

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

  /** Forget the bytes of segments and parts no longer listed. */
  function forgetUnlisted(): void {
    const segments = new Set(model.entries.map((entry) => entry.segment.uri));
    for (const name of segmentBytes.keys()) if (!segments.has(name)) segmentBytes.delete(name);
    const parts = new Set([...(open?.parts ?? []), ...listedParts(model, open)].map((part) => part.uri));
    for (const name of partBytes.keys()) if (!parts.has(name)) partBytes.delete(name);
  }

  function setModel(next: PlaylistModel): void {
    model = next;
    forgetUnlisted();
    refreshLive();
  }

  return {
    model: () => model,

    hasOpenSegment: () => open !== null,

    beginRun() {
      model = beginRunOf(model);
      hinting = true;
      refreshLive();
    },

    appendPart(part) {
      if (!open) {
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
      refreshLive();
      return ref;
    },

    closeOpenSegment(maxSegments) {
      if (!open) throw new Error('no open segment to close');
      const closing = open;
      open = null;
      const data = Buffer.concat(closing.data);
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
        maxSegments,
      );
      const segment: PublicSegment = { ...result.segment, parts: closing.parts };
      const entries = result.model.entries;
      segmentBytes.set(segment.uri, data);
      setModel({ ...result.model, entries: [...entries.slice(0, -1), { ...entries.at(-1)!, segment }] });
      return { segment, data, removed: result.removed };
    },

    slide(maxSegments) {
      const slid = slideWindow(model, maxSegments);
      if (slid.removed.length > 0) setModel(slid.model);
      return slid.removed;
    },

    dropMissing(isPresent) {
      const dropped = dropMissing(model, (entry) => isPresent(entry.segment.uri));
      if (dropped.model === model) return null;
      setModel(dropped.model);
      return dropped.removed;
    },

    replaceModel(next) {
      setModel(next);
    },

    renderPlainText() {
      plain = renderPlaylist(model);
      return plain;
    },

    plainText: () => plain,

    livePlaylistText() {
      if (liveStale) {
        const view: LowLatencyView = {
          ...timing,
          open,
          preloadHint: hinting
            ? partFileName(open?.sequence ?? model.nextSequence, open?.parts.length ?? 0)
            : null,
        };
        live = renderPlaylist(model, view);
        liveStale = false;
      }
      return live;
    },

    liveEdge,

    listedSegmentData: (name) => segmentBytes.get(name) ?? null,

    partData: (name) => (PART_NAME_PATTERN.test(name) ? (partBytes.get(name) ?? null) : null),

    waitForMedia(msn, part, timeoutMs) {
      if (holds(msn, part)) return Promise.resolve(true);
      const startedAt = now();
      return new Promise<boolean>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const settle = (ready: boolean) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          for (const listener of reloadWaitListeners) listener((now() - startedAt) / 1000, ready);
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
  };
}
