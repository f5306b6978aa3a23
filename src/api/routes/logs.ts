import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import type Koa from 'koa';
import type { LogLine } from '../../logger.ts';
import { requireReadAccess } from '../auth.ts';
import { BadRequestError, TooManyRequestsError } from '../errors.ts';
import type { RouteContext } from '../types.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export const LOG_LIMIT_MAX = 2000;
export const LOG_LIMIT_DEFAULT = 200;

export interface LogQuery {
  /** Minimum level, or null for all. */
  level: LogLevelName | null;
  limit: number;
  /** epoch ms, exclusive; null for no lower bound. */
  since: number | null;
}

function single(query: Koa.Context['query'], name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new BadRequestError(name, value, 'a single value');
  return value;
}

/** Validates ?level=&limit=&since= (pure). */
export function parseLogQuery(query: Koa.Context['query']): LogQuery {
  const level = single(query, 'level');
  const limit = single(query, 'limit');
  const since = single(query, 'since');
  const parsed: LogQuery = { level: null, limit: LOG_LIMIT_DEFAULT, since: null };

  if (level !== undefined && level !== '') {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new BadRequestError('level', level, LOG_LEVELS.join(', '));
    }
    parsed.level = level as LogLevelName;
  }
  if (limit !== undefined && limit !== '') {
    const n = /^\d{1,6}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > LOG_LIMIT_MAX) {
      throw new BadRequestError('limit', limit, `an integer from 1 to ${LOG_LIMIT_MAX}`);
    }
    parsed.limit = n;
  }
  if (since !== undefined && since !== '') {
    const epoch = /^\d{1,15}$/.test(since) ? Number(since) : Date.parse(since);
    if (!Number.isFinite(epoch)) {
      throw new BadRequestError('since', since, 'epoch milliseconds or an ISO 8601 date-time');
    }
    parsed.since = epoch;
  }
  return parsed;
}

function levelRank(level: string): number {
  const rank = (LOG_LEVELS as readonly string[]).indexOf(level);
  return rank === -1 ? LOG_LEVELS.length : rank; // unknown (custom) levels pass any filter
}

export function lineMatches(line: LogLine, query: Pick<LogQuery, 'level' | 'since'>): boolean {
  if (query.level !== null && levelRank(line.level) < levelRank(query.level)) return false;
  if (query.since !== null && line.time <= query.since) return false;
  return true;
}

/** Newest `limit` matching lines, oldest first (pure). */
export function selectLines(lines: readonly LogLine[], query: LogQuery): LogLine[] {
  const selected: LogLine[] = [];
  for (let i = lines.length - 1; i >= 0 && selected.length < query.limit; i--) {
    const line = lines[i]!;
    if (lineMatches(line, query)) selected.push(line);
  }
  return selected.reverse();
}

/**
 * A log line as JSON, without the `stack` fields of its record: stack traces name source files
 * and internals and are never shown over HTTP (journald has them for the operator).
 */
export function lineJson(line: LogLine): Record<string, unknown> {
  return {
    time: new Date(line.time).toISOString(),
    level: line.level,
    module: line.module,
    msg: line.msg,
    record: withoutStacks(line.record),
  };
}

/** A copy of `value` without `stack` keys at any depth (pure). */
export function withoutStacks(value: unknown, depth = 0): unknown {
  if (depth > 8 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => withoutStacks(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key !== 'stack') out[key] = withoutStacks(inner, depth + 1);
  }
  return out;
}

export interface LogsRouterOptions {
  /** Interval of SSE heartbeat comments, which keep proxies from closing an idle stream. */
  heartbeatMs?: number;
  /** Live tails open at once; each holds a socket and a subscription, so they are bounded. */
  maxStreams?: number;
  /** Bytes a tail may have queued for a client that does not read before it is dropped. */
  maxBufferedBytes?: number;
  /** A tail is ended after this long (EventSource clients reconnect by themselves after `retry`). */
  maxLifetimeMs?: number;
}

export const LOG_STREAM_MAX_BUFFERED_BYTES = 256 * 1024;
export const LOG_STREAM_MAX_LIFETIME_MS = 15 * 60_000;

/** GET /api/logs (recent lines from the LogRing) and GET /api/logs/stream (Server-Sent Events live tail). */
export function createLogsRouter(context: RouteContext, options: LogsRouterOptions = {}): Router {
  const router = new Router();
  const readAccess = requireReadAccess(context.policy);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxStreams = options.maxStreams ?? 16;
  const maxBufferedBytes = options.maxBufferedBytes ?? LOG_STREAM_MAX_BUFFERED_BYTES;
  const maxLifetimeMs = options.maxLifetimeMs ?? LOG_STREAM_MAX_LIFETIME_MS;
  let openStreams = 0;
  const ring = context.deps.logRing;
  const log = context.deps.logger.child({ module: 'api-logs' });

  router.get('/api/logs', readAccess, (ctx) => {
    const query = parseLogQuery(ctx.query);
    const lines = selectLines(ring.lines(), query).map(lineJson);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { count: lines.length, lines };
  });

  router.get('/api/logs/stream', readAccess, (ctx) => {
    const query = parseLogQuery(ctx.query);
    if (openStreams >= maxStreams) {
      throw new TooManyRequestsError(`too many live log streams open (limit ${maxStreams})`, 30);
    }
    openStreams += 1;
    const stream = new PassThrough();
    // Everything queued for this client, in the stream and in the socket: a reader that does not
    // read is dropped once it passes the bound, instead of growing the supervisor's memory.
    const queued = () => stream.writableLength + stream.readableLength + ctx.res.writableLength;
    const write = (text: string) => {
      if (closed) return;
      if (queued() + text.length > maxBufferedBytes) {
        drop('the client does not read');
        return;
      }
      stream.write(text);
    };
    const send = (line: LogLine) => {
      if (lineMatches(line, query)) write(`event: log\ndata: ${JSON.stringify(lineJson(line))}\n\n`);
    };

    // Replay the backlog the client asked for, then follow.
    let closed = false;
    let unsubscribe = () => {};
    let heartbeat: NodeJS.Timeout | undefined;
    let lifetime: NodeJS.Timeout | undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      openStreams -= 1;
      clearInterval(heartbeat);
      clearTimeout(lifetime);
      unsubscribe();
      stream.end();
    };
    const drop = (why: string) => {
      if (closed) return;
      // Not through the logger's ring first: this line would be queued to the very tail being dropped.
      close();
      ctx.req.socket.destroy();
      log.info({ why, limit_bytes: maxBufferedBytes }, 'live log tail dropped');
    };

    // Timers and subscription first: replaying the backlog may already drop this tail, and close()
    // must then find them to clear.
    heartbeat = setInterval(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), heartbeatMs);
    lifetime = setTimeout(() => {
      write(`: this stream ends after ${Math.round(maxLifetimeMs / 1000)} s; reconnect\n\n`);
      close();
    }, maxLifetimeMs);
    // The backlog: the newest lines that fit in half the bound (the rest of it is for live lines).
    const events = selectLines(ring.lines(), query).map(
      (line) => `event: log\ndata: ${JSON.stringify(lineJson(line))}\n\n`,
    );
    let first = events.length;
    for (let size = 0; first > 0 && size + events[first - 1]!.length <= maxBufferedBytes / 2; first--) {
      size += events[first - 1]!.length;
    }
    unsubscribe = ring.subscribe(send);
    write(`retry: 3000\n: desktop-streamer log stream\n\n`);
    for (const event of events.slice(first)) write(event);
    ctx.req.on('close', close);
    ctx.res.on('close', close);
    stream.on('error', close);

    // The heartbeat keeps a reading client active; one that stops reading hits the idle timeout.
    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = stream;
  });

  return router;
}
