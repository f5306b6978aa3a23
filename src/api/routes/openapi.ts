import Router from '@koa/router';
import { OPENAPI_DOCUMENT } from '../openapi.ts';

/** GET /api/openapi.json: the OpenAPI 3.1 document of this API. Open (it holds no secrets). */
export function createOpenApiRouter(): Router {
  const router = new Router();
  const body = JSON.stringify(OPENAPI_DOCUMENT);
  router.get('/api/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  return router;
}
