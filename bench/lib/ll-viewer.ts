/**
 * Low-Latency HLS viewers as hls.js runs them in low-latency mode: one plain playlist load, then a
 * loop of blocking playlist reloads asking for the part after the last one listed
 * (`?_HLS_msn=<msn>&_HLS_part=<n>`, RFC 8216bis §6.2.5.2), and every new part fetched once, in
 * order, starting at the last part listed when the viewer joined. (hls.js also requests the
 * preload-hinted part early; this loop does not, so a part counts from when it is listed.)
 *
 * Counted per viewer: parts that existed but were never fetched ("missed": the playlist dropped
 * them before the viewer got to them, or a reload skipped them), HTTP status of every request,
 * reload waits, listed → delivered per part, and how far behind the live picture a delivered part
 * ends (delivery wall clock − (segment PROGRAM-DATE-TIME + offset + duration of the part)).
 */
import { type LlPlaylist, nextReload, parseLlPlaylist } from './ll-playlist.ts';

export interface LlViewerStats {
  partsFetched: number;
  bytes: number;
  /** Parts listed (or implied by a later listing) at or after each viewer's start that it never fetched. */
  missedParts: number;
  /** Parts listed but not yet fetched when the viewer was stopped (the end of the run, not a miss). */
  cutOffAtStop: number;
  /** Whole segments of the viewer's range for which it never saw parts (each counted once). */
  missedSegments: number;
  /** HTTP status → count, over every playlist and part request. */
  statuses: Record<string, number>;
  /** Blocking reloads answered 503 (server timeout: three target durations without the media). */
  reloadTimeouts: number;
  errors: string[];
  reloadWaitMs: number[];
  listedToDeliveredMs: number[];
  partLatencyMs: number[];
  /** Delivery − end of the part's content by its PROGRAM-DATE-TIME, ms. */
  behindLiveMs: number[];
  reloads: number;
}

export interface LlViewers {
  stats: LlViewerStats;
  stop(): Promise<void>;
}

/** An error's message with the code of its cause (undici's "fetch failed" says nothing alone). */
function describe(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  return e.cause ? `${e.message} (${e.cause.code ?? e.cause.message})` : e.message;
}

function partIndexOf(uri: string): { seq: number; n: number } | null {
  const match = /seg-(\d{9})\.p(\d+)\.ts$/.exec(uri);
  return match ? { seq: Number(match[1]), n: Number(match[2]) } : null;
}

export function startLlViewers(options: {
  baseUrl: string;
  count: number;
  /** Spread the joins over this long (ms). */
  spreadMs?: number;
  requestTimeoutMs?: number;
}): LlViewers {
  const playlistUrl = new URL('/hls/desktop/playlist.m3u8', options.baseUrl);
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const stats: LlViewerStats = {
    partsFetched: 0,
    bytes: 0,
    missedParts: 0,
    cutOffAtStop: 0,
    missedSegments: 0,
    statuses: {},
    reloadTimeouts: 0,
    errors: [],
    reloadWaitMs: [],
    listedToDeliveredMs: [],
    partLatencyMs: [],
    behindLiveMs: [],
    reloads: 0,
  };
  let running = true;
  const controller = new AbortController();
  const count = (status: number) => {
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  };
  const request = (url: URL) =>
    fetch(url, { signal: AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]) });

  async function viewer(): Promise<void> {
    await new Promise((r) => setTimeout(r, Math.random() * (options.spreadMs ?? 1000)));
    /** seq → parts listed (the most seen), whether it was seen complete. */
    const listed = new Map<number, { parts: number; complete: boolean }>();
    const fetched = new Set<string>();
    /** Parts left in the to-do list when the viewer was stopped. */
    const cutOff = new Set<string>();
    const firstListedAt = new Map<string, number>();
    let start: { seq: number; n: number } | null = null;
    let pl: LlPlaylist | null = null;
    while (running) {
      const url = new URL(playlistUrl);
      if (pl) {
        const next = nextReload(pl);
        url.searchParams.set('_HLS_msn', String(next.msn));
        url.searchParams.set('_HLS_part', String(next.part));
      }
      const asked = performance.now();
      let text: string;
      try {
        const response = await request(url);
        text = await response.text();
        count(response.status);
        if (pl) stats.reloads++;
        if (response.status === 503 && pl) {
          stats.reloadTimeouts++;
          continue;
        }
        if (!response.ok) throw new Error(`playlist HTTP ${response.status}`);
        if (pl) stats.reloadWaitMs.push(performance.now() - asked);
      } catch (error) {
        if (!running) break;
        stats.errors.push(`playlist: ${describe(error)}`);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const seenAt = Date.now();
      pl = parseLlPlaylist(text);
      const todo: Array<{ uri: string; endMs: number | null }> = [];
      for (const segment of pl.segments) {
        if (segment.parts.length === 0) continue;
        const known = listed.get(segment.sequence) ?? { parts: 0, complete: false };
        listed.set(segment.sequence, {
          parts: Math.max(known.parts, segment.parts.length),
          complete: known.complete || segment.uri !== null,
        });
        let offset = 0;
        for (const part of segment.parts) {
          offset += part.duration;
          if (!firstListedAt.has(part.uri)) firstListedAt.set(part.uri, seenAt);
          const index = partIndexOf(part.uri);
          if (!index) continue;
          if (start === null) continue;
          if (index.seq < start.seq || (index.seq === start.seq && index.n < start.n)) continue;
          if (fetched.has(part.uri)) continue;
          todo.push({
            uri: part.uri,
            endMs: segment.programDateMs === null ? null : segment.programDateMs + offset * 1000,
          });
        }
      }
      if (start === null) {
        // Join at the newest part listed, like a player starting at the live edge.
        const last = pl.segments.flatMap((s) => s.parts).at(-1);
        start = last ? partIndexOf(last.uri) : null;
        if (start) {
          const segment = pl.segments.find((s) => s.sequence === start!.seq)!;
          const offset = segment.parts.slice(0, start.n + 1).reduce((sum, p) => sum + p.duration, 0);
          todo.push({
            uri: last!.uri,
            endMs: segment.programDateMs === null ? null : segment.programDateMs + offset * 1000,
          });
        }
      }
      for (const part of todo) {
        if (!running) {
          for (const left of todo) if (!fetched.has(left.uri)) cutOff.add(left.uri);
          break;
        }
        fetched.add(part.uri);
        const started = performance.now();
        try {
          const response = await request(new URL(part.uri, playlistUrl));
          const body = await response.arrayBuffer();
          count(response.status);
          if (!response.ok) throw new Error(`part ${part.uri} HTTP ${response.status}`);
          const now = Date.now();
          stats.partsFetched++;
          stats.bytes += body.byteLength;
          stats.partLatencyMs.push(performance.now() - started);
          stats.listedToDeliveredMs.push(now - (firstListedAt.get(part.uri) ?? now));
          if (part.endMs !== null) stats.behindLiveMs.push(now - part.endMs);
        } catch (error) {
          if (running) stats.errors.push(`${part.uri}: ${describe(error)}`);
        }
      }
    }
    // Missed: every part of the viewer's range that some playlist listed (or a later complete
    // listing implied) and the viewer never fetched.
    if (start === null) return;
    const sequences = [...listed.keys()].filter((s) => s >= start!.seq).sort((a, b) => a - b);
    const last = sequences.at(-1);
    if (last === undefined) return;
    for (let seq = start.seq; seq <= last; seq++) {
      const info = listed.get(seq);
      if (!info) {
        stats.missedSegments++;
        continue;
      }
      for (let n = seq === start.seq ? start.n : 0; n < info.parts; n++) {
        const uri = `seg-${String(seq).padStart(9, '0')}.p${n}.ts`;
        if (cutOff.has(uri)) stats.cutOffAtStop++;
        else if (!fetched.has(uri)) stats.missedParts++;
      }
    }
  }

  const all = Array.from({ length: options.count }, () => viewer());
  return {
    stats,
    async stop() {
      running = false;
      controller.abort();
      await Promise.allSettled(all);
    },
  };
}
