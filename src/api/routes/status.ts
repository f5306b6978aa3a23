import Router from '@koa/router';
import { requireReadAccess } from '../auth.ts';
import { NotFoundError } from '../errors.ts';
import { buildStatus } from '../health-model.ts';
import type { RouteContext } from '../types.ts';

/**
 * GET /api/status: service, stream, health and system, in the earlier system's shape (always 200:
 * it reports, /api/health judges). GET /api/snapshot.jpg: the latest captured picture, when a picture tap exists.
 */
export function createStatusRouter(context: RouteContext): Router {
  const router = new Router();
  const readAccess = requireReadAccess(context.policy);

  router.get('/api/status', readAccess, async (ctx) => {
    const [reading, system] = await Promise.all([context.reader.health(), context.reader.system()]);
    const service = await context.reader.service(reading.supervisor);
    ctx.body = buildStatus({
      service,
      hls: reading.hls,
      config: context.deps.config,
      now: reading.now,
      health: reading.health,
      system,
    });
  });

  router.get('/api/snapshot.jpg', readAccess, (ctx) => {
    const jpeg = context.deps.snapshotJpeg?.() ?? null;
    if (jpeg === null) throw new NotFoundError(ctx.path);
    ctx.type = 'image/jpeg';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = jpeg;
  });
  return router;
}
