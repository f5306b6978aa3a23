import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import type Koa from 'koa';
import type { LogLine } from '../../logger.ts';
import type { RouteContext } from '../app.ts';
import { requireReadAccess } from '../auth.ts';
import { BadRequestError, TooManyRequestsError } from '../errors.ts';

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

export function lineJson(line: LogLine): Record<string, unknown> {
  return {
    time: new Date(line.time).toISOString(),
    level: line.level,
    module: line.module,
    msg: line.msg,
    record: line.record,
  };
}

export interface LogsRouterOptions {
  /** Interval of SSE heartbeat comments, which keep proxies from closing an idle stream. */
  heartbeatMs?: number;
  /** Live tails open at once; each holds a socket and a subscription, so they are bounded. */
  maxStreams?: number;
}

/** GET /api/logs (recent lines from the LogRing) and GET /api/logs/stream (Server-Sent Events live tail). */
export function createLogsRouter(context: RouteContext, options: LogsRouterOptions = {}): Router {
  const router = new Router();
  const readAccess = requireReadAccess(context.policy);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxStreams = options.maxStreams ?? 16;
  let openStreams = 0;
  const ring = context.deps.logRing;

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
    const send = (line: LogLine) => {
      if (lineMatches(line, query)) stream.write(`event: log\ndata: ${JSON.stringify(lineJson(line))}\n\n`);
    };

    // Replay the backlog the client asked for, then follow.
    stream.write(`retry: 3000\n: desktop-streamer log stream\n\n`);
    for (const line of selectLines(ring.lines(), query)) send(line);
    const unsubscribe = ring.subscribe(send);
    const heartbeat = setInterval(
      () => stream.write(`: heartbeat ${new Date().toISOString()}\n\n`),
      heartbeatMs,
    );

    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      openStreams -= 1;
      clearInterval(heartbeat);
      unsubscribe();
      stream.end();
    };
    ctx.req.on('close', close);
    ctx.res.on('close', close);
    stream.on('error', close);

    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = stream;
  });

  return router;
}
