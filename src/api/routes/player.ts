import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import Router from '@koa/router';
import { PLAYER_CSS, PLAYER_HTML, PLAYER_ICON_SVG, PLAYER_JS } from '../player-page.ts';

const require = createRequire(import.meta.url);

/** Files of the hls.js npm package served under /player/ (resolved through node's resolver, so never a CDN). */
const HLS_ASSETS: Record<string, string> = {
  'hls.min.js': 'hls.js/dist/hls.min.js',
  'hls.worker.js': 'hls.js/dist/hls.worker.js',
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** GET /player (the built-in player) and its assets; GET / redirects there. */
export function createPlayerRouter(): Router {
  const router = new Router();
  const cache = new Map<string, Buffer>();

  router.get('/', (ctx) => {
    ctx.redirect('/player');
  });

  router.get('/player', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = PLAYER_HTML;
  });
  router.get('/player/player.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = PLAYER_CSS;
  });
  router.get('/player/icon.svg', (ctx) => {
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = PLAYER_ICON_SVG;
  });
  router.get('/player/player.js', (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = PLAYER_JS;
  });

  for (const [name, specifier] of Object.entries(HLS_ASSETS)) {
    router.get(`/player/${name}`, async (ctx) => {
      let body = cache.get(name);
      if (body === undefined) {
        body = await readFile(require.resolve(specifier));
        cache.set(name, body);
      }
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.body = body;
    });
  }
  return router;
}
