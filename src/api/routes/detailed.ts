import Router from '@koa/router';
import { requireReadAccess } from '../auth.ts';
import { buildDetailed } from '../health-model.ts';
import type { RouteContext } from '../types.ts';

/** GET /api/health/detailed: everything an operator needs to see why the stream is (un)healthy. Always 200. */
export function createDetailedRouter(context: RouteContext): Router {
  const router = new Router();
  router.get('/api/health/detailed', requireReadAccess(context.policy), async (ctx) => {
    const { now, supervisor, hls, health } = await context.reader.health();
    ctx.body = buildDetailed({ supervisor, hls, config: context.deps.config, now, health });
  });
  return router;
}
