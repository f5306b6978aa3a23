/**
 * GET/HEAD /hls/desktop/playlist.m3u8 (from memory) and /hls/desktop/seg-<9 digits>.ts (from
 * disk), with CORS for any origin and single byte ranges. Only names of our exact patterns
 * are served, opened with O_NOFOLLOW: traversal, encoded slashes, symlinks and any other
 * file of the public dir answer 404.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type Koa from 'koa';
import { PLAYLIST_FILE_NAME, SEGMENT_NAME_PATTERN } from '../../hls/playlist.ts';

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

/** Router for /hls/desktop/*; mount with createApp({ extraRouters }). */
export function createHlsRouter(options: HlsRouterOptions): Router {
  // strict: `seg-….ts/` is not the name of a segment.
  const router = new Router({ strict: true });
  const publicDir = path.resolve(options.publicDir);

  router.use('/hls', cors);

  router.options('/hls/{*rest}', preflight);

  router.get(`/hls/desktop/${PLAYLIST_FILE_NAME}`, (ctx) => {
    const text = options.playlist();
    if (text === null) return notFound(ctx);
    ctx.set('Cache-Control', PLAYLIST_CACHE_CONTROL);
    ctx.type = PLAYLIST_CONTENT_TYPE;
    ctx.body = text;
  });

  router.get('/hls/desktop/:name', (ctx) => serveSegment(ctx, options, publicDir, ctx.params.name ?? ''));

  // Everything else under /hls (traversal attempts included) is a plain 404, never a file.
  router.all('/hls{/*rest}', notFound);

  return router;
}
