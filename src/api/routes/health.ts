import Router from '@koa/router';
import { requireReadAccess } from '../auth.ts';
import { isHealthy } from '../health-model.ts';
import type { RouteContext } from '../types.ts';

/** GET /api/health: the earlier system's fields; 200 when healthy, 503 otherwise (so `curl -f` works). */
export function createHealthRouter(context: RouteContext): Router {
  const router = new Router();
  router.get('/api/health', requireReadAccess(context.policy), async (ctx) => {
    const { supervisor, health } = await context.reader.health();
    ctx.status = isHealthy(supervisor, health) ? 200 : 503;
    ctx.body = health;
  });
  return router;
}
