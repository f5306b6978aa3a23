import Router from '@koa/router';
import { requireControlToken } from '../auth.ts';
import { ConflictError } from '../errors.ts';
import type { RouteContext } from '../types.ts';

/**
 * POST /api/stream/{cleanup,start,stop,restart}: the only endpoints that change state.
 * Bearer token required; disabled (403) when none is configured. GET on them is a 405 (see app.ts).
 */
export function createStreamControlRouter(context: RouteContext): Router {
  const router = new Router();
  const guard = requireControlToken(context.policy);
  const { supervisor, hls, logger } = context.deps;

  const actions: Record<string, () => Promise<Record<string, unknown>>> = {
    start: async () => {
      await supervisor.startStreaming();
      return {};
    },
    stop: async () => {
      await supervisor.stopStreaming();
      return {};
    },
    restart: async () => {
      await supervisor.restart();
      return {};
    },
    cleanup: async () => {
      const { removedFiles, removedBytes } = await hls.cleanup();
      return { removed_files: removedFiles, removed_bytes: removedBytes };
    },
  };

  for (const [action, run] of Object.entries(actions)) {
    router.post(`/api/stream/${action}`, guard, async (ctx) => {
      let result: Record<string, unknown>;
      try {
        result = await run();
      } catch (err) {
        throw new ConflictError(
          `stream ${action} failed: ${err instanceof Error ? err.message : String(err)}`,
          err,
        );
      }
      logger.info({ action, remote: ctx.ip }, 'stream control action via API');
      ctx.body = { ok: true, action, state: supervisor.snapshot().state, ...result };
    });
  }
  return router;
}

export const CONTROL_ACTIONS = ['start', 'stop', 'restart', 'cleanup'] as const;
