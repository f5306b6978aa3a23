import Router from '@koa/router';
import type { Metrics } from '../../metrics/index.ts';

/** GET /metrics: the Prometheus text exposition format (0.0.4). */
export function createMetricsRouter(metrics: Pick<Metrics, 'render' | 'contentType'>): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    const body = await metrics.render();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.contentType;
    ctx.body = body;
  });
  return router;
}
