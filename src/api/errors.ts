import type Koa from 'koa';
import type { Logger } from 'pino';

/** JSON body of every error answer: a stable machine code, a sentence for people, and details. */
export interface ApiErrorBody {
  error: string;
  message: string;
  [detail: string]: unknown;
}

/** An error whose status and message are safe to show to the client. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }

  body(): ApiErrorBody {
    return { error: this.code, message: this.message, ...this.details };
  }
}

export class BadRequestError extends ApiError {
  constructor(parameter: string, value: unknown, allowed: string, cause?: unknown) {
    super(400, 'bad_request', `query parameter "${parameter}" is ${describe(value)}; allowed: ${allowed}`, {
      details: { parameter, allowed },
      cause,
    });
    this.name = 'BadRequestError';
  }
}

export class UnauthorizedError extends ApiError {
  constructor(reason: string) {
    super(401, 'unauthorized', reason, {
      headers: { 'WWW-Authenticate': 'Bearer realm="desktop-streamer"' },
    });
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends ApiError {
  constructor(reason: string) {
    super(403, 'forbidden', reason);
    this.name = 'ForbiddenError';
  }
}

export class NotFoundError extends ApiError {
  constructor(path: string) {
    super(404, 'not_found', `no such resource: ${truncate(path, 200)}`);
    this.name = 'NotFoundError';
  }
}

export class MethodNotAllowedError extends ApiError {
  constructor(method: string, allow: string[], hint: string) {
    super(405, 'method_not_allowed', `method ${truncate(method, 20)} is not allowed here`, {
      details: { allow, hint },
      headers: { Allow: allow.join(', ') },
    });
    this.name = 'MethodNotAllowedError';
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `request body larger than ${limitBytes} bytes`, {
      details: { limit_bytes: limitBytes },
    });
    this.name = 'PayloadTooLargeError';
  }
}

export class TooManyRequestsError extends ApiError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'too_many_requests', message, { headers: { 'Retry-After': String(retryAfterSeconds) } });
    this.name = 'TooManyRequestsError';
  }
}

/** The supervisor refused or failed a control action (e.g. already stopping). */
export class ConflictError extends ApiError {
  constructor(message: string, cause?: unknown) {
    super(409, 'conflict', message, { cause });
    this.name = 'ConflictError';
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'given more than once';
  return `"${truncate(String(value), 60)}"`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Koa/http-errors style errors (ctx.throw, malformed input caught by Koa) carry status + expose. */
interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * Maps errors to JSON answers. Named ApiErrors keep their status; client errors raised by
 * Koa itself keep theirs; anything else is a 500 with no internals, logged with its stack.
 */
export function errorHandler(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (isClientAbort(err, ctx.req)) {
        // The client went away mid-request: nothing failed on our side, and nobody reads an answer.
        logger.debug(
          { method: ctx.method, path: ctx.path, code: errorCode(err) },
          'client closed the request',
        );
        ctx.status = CLIENT_CLOSED_REQUEST;
        return;
      }
      const answer = toAnswer(err);
      if (answer.status >= 500) {
        logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      }
      ctx.status = answer.status;
      for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = answer.body;
    }
  };
}

/** nginx's status for a request the client abandoned; recorded in metrics, never sent. */
export const CLIENT_CLOSED_REQUEST = 499;

const ABORT_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * An error caused by the client closing its connection (an aborted upload, a reset mid-answer),
 * not by us. `req` tells whether the connection is really gone, so a reset of one of our own
 * outgoing connections (the relay probe) still counts as a failure.
 */
export function isClientAbort(
  err: unknown,
  req?: { destroyed?: boolean; socket?: { destroyed?: boolean } | null },
): boolean {
  const code = errorCode(err);
  const aborted = code !== undefined && ABORT_CODES.has(code);
  const message = (err as { message?: unknown } | null)?.message;
  const abortedMessage = message === 'aborted' || message === 'socket hang up';
  // The client closed its side in the middle of a request: only a client does that.
  if (code === 'HPE_INVALID_EOF_STATE') return true;
  if (!aborted && !abortedMessage) return false;
  if (req === undefined) return true;
  return req.destroyed === true || req.socket?.destroyed === true || req.socket === null;
}

const CLIENT_ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

function toAnswer(err: unknown): { status: number; body: ApiErrorBody; headers: Record<string, string> } {
  if (err instanceof ApiError) return { status: err.status, body: err.body(), headers: err.headers };
  const like = (typeof err === 'object' && err !== null ? err : {}) as HttpLikeError;
  const status = Number(like.status ?? like.statusCode);
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    const message = like.expose === true && typeof like.message === 'string' ? like.message : 'bad request';
    return { status, body: { error: CLIENT_ERROR_CODES[status] ?? 'client_error', message }, headers: {} };
  }
  return { status: 500, body: { error: 'internal_error', message: 'internal error' }, headers: {} };
}
