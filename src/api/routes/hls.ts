/**
 * GET/HEAD /hls/desktop/playlist.m3u8 (from memory, with blocking reload: `_HLS_msn`/`_HLS_part`),
 * /hls/desktop/seg-<9 digits>.ts (memory while listed, else disk) and the Low-Latency HLS parts
 * /hls/desktop/seg-<9 digits>.p<n>.ts (memory; the announced next part blocks until it exists),
 * with CORS for any origin and single byte ranges. Only names of our exact patterns are served,
 * opened with O_NOFOLLOW: traversal, encoded slashes, symlinks and any other file of the public
 * dir answer 404.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type Koa from 'koa';
import { PART_NAME_PATTERN, PLAYLIST_FILE_NAME, SEGMENT_NAME_PATTERN } from '../../hls/playlist.ts';
import type { LiveEdge } from '../../hls/types.ts';

export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';
export const SEGMENT_CONTENT_TYPE = 'video/mp2t';
/**
 * A segment's bytes never change under its name, but a name can come back after the output dir
 * was wiped (sequence restarts at 0): a short lifetime covers every legitimate use (a segment is
 * only useful for about one playlist length) without pinning stale bytes in caches.
 */
export const SEGMENT_CACHE_CONTROL = 'public, max-age=60, immutable';
export const PLAYLIST_CACHE_CONTROL = 'no-cache';
const ALLOWED_METHODS = 'GET, HEAD, OPTIONS';
const EXPOSED_HEADERS = 'Content-Length, Content-Range, Accept-Ranges';

export interface HlsRouterOptions {
  /** Directory holding playlist.m3u8 and the segments (HlsSnapshot.publicDir). */
  publicDir: string;
  /** The current playlist text, or null while none exists. */
  playlist: () => string | null;
  /** Bytes of a listed segment kept in memory, or null to read the file (LocalHlsPublisher.listedSegmentData). */
  segmentData?: (name: string) => Buffer | null;
  /** Told the size of every segment body handed out (the daily summary's "data served"). */
  onSegmentServed?: (bytes: number) => void;
  /** Low-Latency HLS: blocking reloads and parts (LocalHlsPublisher); without it, plain HLS only. */
  lowLatency?: LowLatencySource;
  /** Told who asked for the playlist (address and User-Agent), for counting HLS viewers. */
  onPlaylistRequest?: (client: string) => void;
}

export interface LowLatencySource {
  waitForMedia(msn: number, part: number | null, timeoutMs: number): Promise<boolean>;
  liveEdge(): LiveEdge;
  partData(name: string): Buffer | null;
  /** How long a blocking request may wait: RFC 8216bis allows three target durations. */
  blockTimeoutMs(): number;
}

/** A playlist request may ask for a media sequence at most this far past the live edge (RFC 8216bis §6.2.5.2). */
const MAX_MSN_AHEAD = 2;

export class BadReloadRequestError extends Error {
  override name = 'BadReloadRequestError';
}

/** The `_HLS_msn` / `_HLS_part` of a playlist request; null for a plain reload. */
export function parseReloadRequest(query: Record<string, string | string[] | undefined>): {
  msn: number;
  part: number | null;
} | null {
  const integer = (key: string): number | null => {
    const value = query[key];
    if (value === undefined) return null;
    if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) {
      throw new BadReloadRequestError(
        `query parameter ${key}=${JSON.stringify(value)} is not allowed: must be one non-negative integer`,
      );
    }
    return Number(value);
  };
  const msn = integer('_HLS_msn');
  const part = integer('_HLS_part');
  if (msn === null) {
    if (part !== null)
      throw new BadReloadRequestError('query parameter _HLS_part is only allowed with _HLS_msn');
    return null;
  }
  return { msn, part };
}

function notFound(ctx: Koa.Context): void {
  ctx.status = 404;
  ctx.body = { error: 'not found' };
}

async function cors(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  await next();
}

function preflight(ctx: Koa.Context): void {
  ctx.set('Access-Control-Allow-Methods', ALLOWED_METHODS);
  ctx.set('Access-Control-Allow-Headers', ctx.get('Access-Control-Request-Headers') || 'Range');
  ctx.set('Access-Control-Max-Age', '86400');
  ctx.set('Allow', ALLOWED_METHODS);
  ctx.status = 204;
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/** A single `bytes=` range against a file of `size` bytes; null = serve the whole file. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null; // multiple or foreign ranges: the whole file is a valid answer (RFC 9110 §14.2)
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * Headers, range and HEAD handling common to both sources of a segment. `body` makes the bytes
 * start…end (inclusive). Returns true when a body was handed to Koa (it then owns the source).
 */
function sendSegment(
  ctx: Koa.Context,
  size: number,
  lastModified: Date | null,
  body: (start: number, end: number) => Koa.Context['body'],
  onServed?: (bytes: number) => void,
): boolean {
  const range = parseRange(ctx.get('Range') || undefined, size);
  ctx.set('Cache-Control', SEGMENT_CACHE_CONTROL);
  ctx.set('Accept-Ranges', 'bytes');
  if (lastModified) ctx.set('Last-Modified', lastModified.toUTCString());
  ctx.type = SEGMENT_CONTENT_TYPE;
  if (range === 'unsatisfiable') {
    ctx.status = 416;
    ctx.set('Content-Range', `bytes */${size}`);
    ctx.body = { error: 'range not satisfiable' };
    return false;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  ctx.status = range ? 206 : 200;
  if (range) ctx.set('Content-Range', `bytes ${start}-${end}/${size}`);
  if (ctx.method === 'HEAD') {
    // No body: a stream handed to Koa for HEAD would never be read nor closed.
    ctx.set('Content-Length', String(end - start + 1));
    return false;
  }
  ctx.body = size === 0 ? '' : body(start, end);
  ctx.length = end - start + 1;
  onServed?.(ctx.length);
  return size > 0;
}

async function serveSegment(ctx: Koa.Context, options: HlsRouterOptions, publicDir: string, name: string) {
  if (!SEGMENT_NAME_PATTERN.test(name)) return notFound(ctx);
  // A listed segment is in memory: no open/stat/stream per request (bench/README.md, Viewers).
  const cached = options.segmentData?.(name);
  if (cached) {
    sendSegment(
      ctx,
      cached.length,
      null,
      (start, end) => cached.subarray(start, end + 1),
      options.onSegmentServed,
    );
    return;
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path.join(publicDir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return notFound(ctx);
  }
  let handedOver = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return notFound(ctx);
    handedOver = sendSegment(
      ctx,
      stat.size,
      stat.mtime,
      (start, end) => handle.createReadStream({ start, end, autoClose: true }),
      options.onSegmentServed,
    );
  } finally {
    if (!handedOver) await handle.close();
  }
}

/**
 * A listed part from memory. The part the playlist announces next (EXT-X-PRELOAD-HINT) may be
 * asked for before it exists: the request then waits for it, like a blocking reload.
 */
async function servePart(ctx: Koa.Context, live: LowLatencySource, name: string): Promise<void> {
  let data = live.partData(name);
  if (!data) {
    const [, sequence = '', index = ''] = PART_NAME_PATTERN.exec(name) ?? [];
    const msn = Number(sequence);
    const part = Number(index);
    const edge = live.liveEdge();
    const announced = edge.hinted && msn === edge.msn && part === edge.parts;
    if (announced && (await live.waitForMedia(msn, part, live.blockTimeoutMs()))) data = live.partData(name);
  }
  if (!data) return notFound(ctx);
  const bytes = data;
  sendSegment(ctx, bytes.length, null, (start, end) => bytes.subarray(start, end + 1));
}

/** Router for /hls/desktop/*; mount with createApp({ extraRouters }). */
export function createHlsRouter(options: HlsRouterOptions): Router {
  // strict: `seg-….ts/` is not the name of a segment.
  const router = new Router({ strict: true });
  const publicDir = path.resolve(options.publicDir);

  router.use('/hls', cors);

  router.options('/hls/{*rest}', preflight);

  router.get(`/hls/desktop/${PLAYLIST_FILE_NAME}`, async (ctx) => {
    options.onPlaylistRequest?.(`${ctx.ip} ${ctx.get('User-Agent')}`);
    const live = options.lowLatency;
    if (live) {
      let reload: ReturnType<typeof parseReloadRequest>;
      try {
        reload = parseReloadRequest(ctx.query);
      } catch (error) {
        ctx.status = 400;
        ctx.body = { error: (error as Error).message };
        return;
      }
      if (reload) {
        // The newest media sequence listed: the open segment once it has a part, else the one before it.
        const edge = live.liveEdge();
        const newest = edge.parts > 0 ? edge.msn : edge.msn - 1;
        if (reload.msn > newest + MAX_MSN_AHEAD) {
          ctx.status = 400;
          ctx.body = {
            error: `_HLS_msn=${reload.msn} is too far ahead: the newest media sequence is ${newest} (at most ${MAX_MSN_AHEAD} more allowed)`,
          };
          return;
        }
        if (!(await live.waitForMedia(reload.msn, reload.part, live.blockTimeoutMs()))) {
          ctx.status = 503;
          ctx.set('Retry-After', '1');
          ctx.body = { error: `media sequence ${reload.msn} did not arrive in time` };
          return;
        }
      }
    }
    const text = options.playlist();
    if (text === null) return notFound(ctx);
    ctx.set('Cache-Control', PLAYLIST_CACHE_CONTROL);
    ctx.type = PLAYLIST_CONTENT_TYPE;
    ctx.body = text;
  });

  router.get('/hls/desktop/:name', (ctx) => {
    const name = ctx.params.name ?? '';
    if (options.lowLatency && PART_NAME_PATTERN.test(name)) return servePart(ctx, options.lowLatency, name);
    return serveSegment(ctx, options, publicDir, name);
  });

  // Everything else under /hls (traversal attempts included) is a plain 404, never a file.
  router.all('/hls{/*rest}', notFound);

  return router;
}
