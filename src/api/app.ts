import type Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../logger.ts';
import { type AuthPolicy, requireReadAccess } from './auth.ts';
import {
  errorHandler,
  isClientAbort,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
} from './errors.ts';
import { HealthReader } from './health-reader.ts';
import { createDetailedRouter } from './routes/detailed.ts';
import { createHealthRouter } from './routes/health.ts';
import { createLogsRouter } from './routes/logs.ts';
import { createOpenApiRouter } from './routes/openapi.ts';
import { createPlayerRouter } from './routes/player.ts';
import { createStatusRouter } from './routes/status.ts';
import { createStreamControlRouter } from './routes/stream-control.ts';
import type { AppDeps, RouteContext } from './types.ts';

export type { AppDeps, RouteContext } from './types.ts';

export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024;

/** Hints for a wrong method on a known path (the JSON of the 405 answer). */
const METHOD_HINTS: { pattern: RegExp; hint: string }[] = [
  {
    pattern: /^\/api\/stream\//,
    hint: 'this endpoint changes state: send POST with the header "Authorization: Bearer <token>"',
  },
];

/** The Koa app: API, player, and the routers of other areas. The caller does listen(). */
export function createApp(deps: AppDeps): Koa {
  const logger = deps.logger.child({ module: 'api' });
  const app = new Koa();
  const policy: AuthPolicy = { apiToken: deps.apiToken, publicRead: deps.config.api.public_read };
  const context: RouteContext = { deps: { ...deps, logger }, policy, reader: new HealthReader(deps) };

  const routers: Router[] = [
    createHealthRouter(context),
    createDetailedRouter(context),
    createStatusRouter(context),
    createStreamControlRouter(context),
    createLogsRouter(context, {
      heartbeatMs: deps.options?.sseHeartbeatMs,
      maxStreams: deps.options?.maxLogStreams,
      maxBufferedBytes: deps.options?.logStreamMaxBufferedBytes,
      maxLifetimeMs: deps.options?.logStreamMaxLifetimeMs,
    }),
    createOpenApiRouter(),
    createPlayerRouter(),
    ...(deps.extraRouters ?? []),
  ];

  for (const middleware of deps.middleware ?? []) app.use(middleware);
  app.use(requestLog(logger));
  app.use(errorHandler(logger));
  app.use(securityHeaders);
  app.use(guardMediaAndMetrics(policy));
  app.use(bodyLimit(deps.options?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES));
  for (const router of routers) app.use(router.routes());
  app.use(notFoundOrWrongMethod(routers));

  // Errors that escape the middleware chain (e.g. a client that disconnects mid-stream).
  app.on('error', (err: unknown, ctx?: Koa.Context) => {
    if (isClientAbort(err, ctx?.req)) {
      logger.debug(
        { code: (err as { code?: unknown }).code, path: ctx?.path },
        'client closed the connection',
      );
      return;
    }
    logger.warn({ err }, 'error outside a request handler');
  });
  return app;
}

/**
 * With api.public_read false, the stream (/hls/…, /whep) and /metrics need the token like the read-only
 * API does; CORS preflights stay open (a browser cannot send a token with them). The player page
 * and the OpenAPI document are static and stay open (docs/security.md).
 */
/** The stream's roots: each guarded with everything below it. */
const MEDIA_ROOTS = ['/hls', '/whep'];

function guardMediaAndMetrics(policy: AuthPolicy): Koa.Middleware {
  const readAccess = requireReadAccess(policy);
  return async (ctx, next) => {
    const guarded =
      ctx.path === '/metrics' ||
      MEDIA_ROOTS.some((root) => ctx.path === root || ctx.path.startsWith(`${root}/`));
    if (guarded && ctx.method !== 'OPTIONS') return readAccess(ctx, next);
    await next();
  };
}

async function securityHeaders(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  // Live state must never be served from a cache; a route may relax this (the OpenAPI document does).
  if (ctx.path.startsWith('/api/')) ctx.set('Cache-Control', 'no-store');
  await next();
}

function requestLog(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // Never the Authorization header or the query string (it may carry anything).
      logger.debug(
        {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  };
}

/**
 * No endpoint takes a real body; anything larger than the limit is refused with 413 before
 * routing, and what is allowed is read (so the connection stays usable) and kept in ctx.state.body.
 */
function bodyLimit(limitBytes: number): Koa.Middleware {
  return async (ctx, next) => {
    const declared = ctx.req.headers['content-length'];
    const chunked = ctx.req.headers['transfer-encoding'] !== undefined;
    if ((declared !== undefined && declared !== '0') || chunked) {
      if (declared !== undefined && Number(declared) > limitBytes) {
        ctx.set('Connection', 'close');
        throw new PayloadTooLargeError(limitBytes);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of ctx.req) {
        size += (chunk as Buffer).length;
        if (size > limitBytes) {
          ctx.set('Connection', 'close');
          throw new PayloadTooLargeError(limitBytes);
        }
        chunks.push(chunk as Buffer);
      }
      ctx.state.body = Buffer.concat(chunks);
    }
    await next();
  };
}

/** Reached only when no router handled the request: 405 for a known path, else 404. */
function notFoundOrWrongMethod(routers: Router[]): Koa.Middleware {
  return (ctx) => {
    const allowed = new Set<string>();
    for (const router of routers) {
      for (const layer of router.match(ctx.path, ctx.method).path) {
        for (const method of layer.methods) allowed.add(method);
      }
    }
    if (allowed.size === 0) throw new NotFoundError(ctx.path);
    const allow = [...allowed].sort();
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      ctx.set('Allow', [...allow, 'OPTIONS'].join(', '));
      return;
    }
    const hint =
      METHOD_HINTS.find((h) => h.pattern.test(ctx.path))?.hint ?? `use ${allow.join(' or ')} on this path`;
    throw new MethodNotAllowedError(ctx.method, allow, hint);
  };
}
