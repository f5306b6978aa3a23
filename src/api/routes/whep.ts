/**
 * WHEP (RFC 9725): POST /whep with an SDP offer (`application/sdp`) → 201 with the answer and the
 * session's URL in Location; DELETE on that URL ends the session; OPTIONS answers CORS preflights
 * and says what POST accepts. No trickle ICE and no ICE restart (the answer carries every
 * candidate): PATCH is 405. Read access like the HLS URL (api.public_read; see app.ts).
 */
import Router from '@koa/router';
import type Koa from 'koa';
import { OfferError } from '../../webrtc/offer.ts';
import { WhepCapacityError, WhepNegotiationError, WhepPortError } from '../../webrtc/whep-sessions.ts';
import { ApiError, NotFoundError } from '../errors.ts';

export const WHEP_PATH = '/whep';
export const SDP_CONTENT_TYPE = 'application/sdp';
const SESSION_PATH = `${WHEP_PATH}/sessions/:id`;
const SESSION_ID_PATTERN = /^[0-9a-f-]{36}$/;
/** How long a client turned away for capacity should wait before it asks again. */
const RETRY_AFTER_SECONDS = 10;

export interface WhepSource {
  open(offer: string): Promise<{ id: string; answer: string }>;
  close(id: string): boolean;
}

export class WhepUnavailableError extends ApiError {
  constructor(message: string, retryAfterSeconds: number | null) {
    super(503, 'webrtc_unavailable', message, {
      headers: retryAfterSeconds === null ? {} : { 'Retry-After': String(retryAfterSeconds) },
    });
    this.name = 'WhepUnavailableError';
  }
}

/** `sessions` null: WebRTC is turned off in the config, and every POST says so. */
export function createWhepRouter(sessions: WhepSource | null): Router {
  const router = new Router();

  router.options(WHEP_PATH, (ctx) => {
    cors(ctx, 'POST, OPTIONS');
    ctx.set('Accept-Post', SDP_CONTENT_TYPE);
    ctx.status = 204;
  });

  router.post(WHEP_PATH, async (ctx) => {
    cors(ctx, 'POST, OPTIONS');
    if (!sessions) {
      throw new WhepUnavailableError(
        'WebRTC is turned off (webrtc.enabled: false); the stream is at /hls/desktop/playlist.m3u8',
        null,
      );
    }
    if (!ctx.is(SDP_CONTENT_TYPE)) {
      throw new ApiError(
        415,
        'unsupported_media_type',
        `the body must be an SDP offer sent as Content-Type: ${SDP_CONTENT_TYPE}`,
      );
    }
    const body = ctx.state.body as Buffer | undefined;
    if (!body || body.length === 0)
      throw new ApiError(400, 'bad_offer', 'the body is empty: send an SDP offer');
    try {
      const { id, answer } = await sessions.open(body.toString('utf8'));
      ctx.status = 201;
      ctx.type = SDP_CONTENT_TYPE;
      ctx.set('Location', `${WHEP_PATH}/sessions/${id}`);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = answer;
    } catch (error) {
      if (error instanceof OfferError || error instanceof WhepNegotiationError) {
        throw new ApiError(400, 'bad_offer', error.message);
      }
      if (error instanceof WhepCapacityError || error instanceof WhepPortError)
        throw new WhepUnavailableError(error.message, RETRY_AFTER_SECONDS);
      throw error;
    }
  });

  router.options(SESSION_PATH, (ctx) => {
    cors(ctx, 'DELETE, OPTIONS');
    ctx.status = 204;
  });

  router.delete(SESSION_PATH, (ctx) => {
    cors(ctx, 'DELETE, OPTIONS');
    const id = ctx.params.id ?? '';
    if (!SESSION_ID_PATTERN.test(id) || !sessions?.close(id)) throw new NotFoundError(ctx.path);
    ctx.status = 200;
    ctx.body = ''; // 200 with no body (RFC 9725 §4.3); null would make Koa answer 204
  });

  router.patch(SESSION_PATH, (ctx) => {
    cors(ctx, 'DELETE, OPTIONS');
    throw new ApiError(
      405,
      'method_not_allowed',
      'trickle ICE and ICE restarts are not supported: the answer carries every candidate; to reconnect, DELETE this session and POST a new offer',
      {
        headers: { Allow: 'DELETE, OPTIONS' },
        details: { allow: ['DELETE', 'OPTIONS'] },
      },
    );
  });

  return router;
}

function cors(ctx: Koa.Context, methods: string): void {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Access-Control-Allow-Methods', methods);
  ctx.set('Access-Control-Allow-Headers', 'Content-Type, Authorization, If-Match');
  ctx.set('Access-Control-Expose-Headers', 'Location, Link, ETag, Accept-Post');
  ctx.set('Access-Control-Max-Age', '86400');
}
