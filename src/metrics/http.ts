import type { Middleware } from 'koa';
import { Counter, Histogram, type Registry } from 'prom-client';

export const HTTP_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Route label when no @koa/router route matched (404s, static files, probes of random paths). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The label for a request: the matched @koa/router template (e.g. "/hls/desktop/:file"), or a
 * template a non-router middleware put in `ctx.state.metricsRoute`, never the raw path, so the
 * number of series stays bounded whatever clients request.
 */
export function routeLabel(ctx: { _matchedRoute?: unknown; state?: unknown }): string {
  if (typeof ctx._matchedRoute === 'string') return ctx._matchedRoute;
  const state = ctx.state as { metricsRoute?: unknown } | undefined;
  if (typeof state?.metricsRoute === 'string') return state.metricsRoute;
  return UNMATCHED_ROUTE;
}

export function methodLabel(method: string): string {
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : 'other';
}

/** Koa middleware counting requests and their latency. Mount it before the routers. */
export function createHttpMetricsMiddleware(registry: Registry): Middleware {
  const requests = new Counter({
    name: 'desktop_streamer_http_requests_total',
    help: 'API/HLS requests, by matched route template.',
    labelNames: ['method', 'route', 'code'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'desktop_streamer_http_request_duration_seconds',
    help: 'Request latency until the response body is handed to Koa, by matched route template.',
    labelNames: ['method', 'route'],
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  return async (ctx, next) => {
    const started = performance.now();
    let status: number | undefined;
    try {
      await next();
      status = ctx.status;
    } catch (error) {
      const errorStatus = (error as { status?: unknown; statusCode?: unknown }).status;
      status = typeof errorStatus === 'number' && errorStatus >= 400 && errorStatus < 600 ? errorStatus : 500;
      throw error;
    } finally {
      const method = methodLabel(ctx.method);
      const route = routeLabel(ctx as never);
      requests.inc({ method, route, code: String(status ?? 500) });
      durations.observe({ method, route }, (performance.now() - started) / 1000);
    }
  };
}
