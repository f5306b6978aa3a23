import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { ForbiddenError, UnauthorizedError } from './errors.ts';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Compares a presented token with the configured one in constant time. Both are hashed
 * first so the comparison takes the same time whatever their lengths.
 */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

export interface AuthPolicy {
  /** null: no token configured. */
  apiToken: string | null;
  /** Whether read-only endpoints are open to everyone. */
  publicRead: boolean;
}

/**
 * Guards endpoints that change state. Without a configured token they are disabled (403)
 * rather than open; a missing or wrong token is a 401 with a Bearer challenge.
 * The token is never logged or echoed.
 */
export function requireControlToken(policy: AuthPolicy): Koa.Middleware {
  return async (ctx, next) => {
    if (policy.apiToken === null) {
      throw new ForbiddenError(
        'control endpoints are disabled: no API token is configured (api.token, api.token_file or DESKTOP_STREAMER_API_TOKEN)',
      );
    }
    checkBearer(ctx.get('Authorization'), policy.apiToken);
    await next();
  };
}

/** Guards read-only endpoints: open when public_read is true, otherwise like the control endpoints. */
export function requireReadAccess(policy: AuthPolicy): Koa.Middleware {
  return async (ctx, next) => {
    if (!policy.publicRead) {
      if (policy.apiToken === null) {
        throw new ForbiddenError(
          'api.public_read is false but no API token is configured: reading is disabled',
        );
      }
      checkBearer(ctx.get('Authorization'), policy.apiToken);
    }
    await next();
  };
}

function checkBearer(header: string, expected: string): void {
  const presented = bearerToken(header);
  if (presented === null) throw new UnauthorizedError('missing bearer token (Authorization: Bearer <token>)');
  if (!tokenMatches(presented, expected)) throw new UnauthorizedError('invalid bearer token');
}
