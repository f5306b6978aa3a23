/**
 * Player-like HLS viewers (as hls.js does for a live stream): each polls the media playlist every
 * pollMs, starts at the newest segment, then fetches every segment that appears, in order, once.
 * Starts are spread over one poll period, like players that did not all open at the same instant.
 */

export interface SegmentFetch {
  viewer: number;
  uri: string;
  /** Time from request start to the last body byte, ms. */
  latencyMs: number;
  bytes: number;
  /** Wall clock (Date.now()) when the segment was first seen listed by this viewer. */
  listedAtMs: number;
  /** Wall clock when its last byte arrived. */
  deliveredAtMs: number;
}

export interface ListingEvent {
  uri: string;
  /** EXTINF duration, seconds. */
  duration: number;
  /** EXT-X-PROGRAM-DATE-TIME of the segment (ms since epoch), when present. */
  programDateMs: number | null;
  /** Wall clock when viewer 0 first saw it listed. */
  firstSeenMs: number;
}

export interface ViewerStats {
  fetches: SegmentFetch[];
  playlistLatenciesMs: number[];
  errors: string[];
  /** Seen by viewer 0, in order: the cadence of the stream as a player sees it. */
  listings: ListingEvent[];
}

export interface Viewers {
  stats: ViewerStats;
  stop(): Promise<void>;
}

export interface PlaylistEntry {
  uri: string;
  duration: number;
  programDateMs: number | null;
}

/** Segments of a media playlist with their EXTINF and EXT-X-PROGRAM-DATE-TIME (pure). */
export function parseMediaPlaylist(text: string): PlaylistEntry[] {
  const entries: PlaylistEntry[] = [];
  let duration = Number.NaN;
  let programDateMs: number | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) programDateMs = Date.parse(line.slice(25));
    else if (line !== '' && !line.startsWith('#')) {
      entries.push({ uri: line, duration, programDateMs });
      duration = Number.NaN;
      programDateMs = null;
    }
  }
  return entries;
}

/** An error's message with the code of its cause (undici's "fetch failed" says nothing alone). */
function describeError(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  return e.cause ? `${e.message} (${e.cause.code ?? e.cause.message})` : e.message;
}

export function startViewers(options: {
  baseUrl: string;
  count: number;
  pollMs: number;
  playlistPath?: string;
  /** Abort a request after this long (counts as an error). */
  requestTimeoutMs?: number;
}): Viewers {
  const playlistUrl = new URL(options.playlistPath ?? '/hls/desktop/playlist.m3u8', options.baseUrl);
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const stats: ViewerStats = { fetches: [], playlistLatenciesMs: [], errors: [], listings: [] };
  const listed = new Set<string>();
  let running = true;
  const wake = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake.delete(done);
        resolve();
      }
      wake.add(done);
    });

  async function viewer(index: number): Promise<void> {
    await sleep(Math.random() * options.pollMs);
    const fetched = new Set<string>();
    let first = true;
    while (running) {
      const pollStarted = performance.now();
      try {
        const response = await fetch(playlistUrl, { signal: AbortSignal.timeout(timeoutMs) });
        const text = await response.text();
        stats.playlistLatenciesMs.push(performance.now() - pollStarted);
        if (!response.ok) throw new Error(`playlist HTTP ${response.status}`);
        const seenAt = Date.now();
        const entries = parseMediaPlaylist(text);
        if (index === 0) {
          for (const entry of entries) {
            if (listed.has(entry.uri)) continue;
            listed.add(entry.uri);
            stats.listings.push({ ...entry, firstSeenMs: seenAt });
          }
        }
        // Like a live player: start at the newest segment, skip what was listed before it.
        if (first) for (const entry of entries.slice(0, -1)) fetched.add(entry.uri);
        const todo = entries.filter((e) => !fetched.has(e.uri));
        first = false;
        for (const entry of todo) {
          if (!running) break;
          fetched.add(entry.uri);
          const started = performance.now();
          try {
            const segment = await fetch(new URL(entry.uri, playlistUrl), {
              signal: AbortSignal.timeout(timeoutMs),
            });
            const body = await segment.arrayBuffer();
            if (!segment.ok) throw new Error(`segment HTTP ${segment.status}`);
            stats.fetches.push({
              viewer: index,
              uri: entry.uri,
              latencyMs: performance.now() - started,
              bytes: body.byteLength,
              listedAtMs: seenAt,
              deliveredAtMs: Date.now(),
            });
          } catch (error) {
            if (running) stats.errors.push(`${entry.uri}: ${describeError(error)}`);
          }
        }
      } catch (error) {
        if (running) stats.errors.push(`playlist: ${describeError(error)}`);
      }
      await sleep(Math.max(0, options.pollMs - (performance.now() - pollStarted)));
    }
  }

  const all = Array.from({ length: options.count }, (_, i) => viewer(i));
  return {
    stats,
    async stop() {
      running = false;
      for (const done of [...wake]) done();
      await Promise.allSettled(all);
    },
  };
}
