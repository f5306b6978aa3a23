/**
 * `desktop-streamer stream start|stop|restart|cleanup`: the control endpoints without curl, with
 * the token the service itself uses (see token.ts). Exit 0 done, 1 refused by the supervisor,
 * 2 unreachable, 64 bad usage, 77 no usable token (EX_NOPERM).
 */
import { parseArgs } from 'node:util';
import { CONTROL_ACTIONS } from '../api/routes/stream-control.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { statusUrlFor } from './status.ts';
import { resolveCliToken, TokenFileError } from './token.ts';

export const STREAM_EXIT = { ok: 0, refused: 1, unreachable: 2, usage: 64, noPermission: 77 } as const;

export const STREAM_USAGE = `Usage: desktop-streamer stream start|stop|restart|cleanup [--config PATH] [--url URL] [--token-file PATH] [--timeout SECONDS]

  start, stop, restart   control the capture pipeline of the running supervisor
  cleanup                delete HLS files that left the playlist now
  --config PATH          the service's config file: its address and token settings
                         (default $DESKTOP_STREAMER_CONFIG or /etc/desktop-streamer/config.json)
  --url URL              supervisor base URL (default $DESKTOP_STREAMER_URL, else from the config)
  --token-file PATH      the API token; default: $DESKTOP_STREAMER_API_TOKEN, api.token_file,
                         the service's credential /etc/desktop-streamer/api-token, api.token
  --timeout SECONDS      for the request (default 30)`;

export interface StreamIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: StreamIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

type Action = (typeof CONTROL_ACTIONS)[number];

export async function runStream(argv: string[], io: StreamIo = defaultIo): Promise<number> {
  let parsed: ReturnType<typeof parseStreamArgs>;
  try {
    parsed = parseStreamArgs(argv);
  } catch (error) {
    io.err(`desktop-streamer stream: ${(error as Error).message}\n\n${STREAM_USAGE}`);
    return STREAM_EXIT.usage;
  }
  const { action, values } = parsed;

  let config: Config | null = null;
  try {
    config = (await loadConfig(values.config, io.env)).config;
  } catch (error) {
    // The token and address may still come from flags and the environment.
    if (values.config || !values.url) io.err(`desktop-streamer stream: ${(error as Error).message}`);
  }
  const url = (
    values.url ??
    io.env.DESKTOP_STREAMER_URL ??
    (config ? statusUrlFor(config) : 'http://127.0.0.1:8888')
  ).replace(/\/+$/, '');

  let token: string;
  try {
    const found = await resolveCliToken({ tokenFile: values['token-file'], config, env: io.env });
    if (found === null) {
      io.err(
        'desktop-streamer stream: no API token found (--token-file, $DESKTOP_STREAMER_API_TOKEN, api.token_file, /etc/desktop-streamer/api-token or api.token)',
      );
      return STREAM_EXIT.noPermission;
    }
    token = found.token;
  } catch (error) {
    if (!(error instanceof TokenFileError)) throw error;
    io.err(`desktop-streamer stream: ${error.message}`);
    return STREAM_EXIT.noPermission;
  }

  let response: Response;
  try {
    response = await fetch(`${url}/api/stream/${action}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(values.timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    io.err(`desktop-streamer stream ${action}: ${url} unreachable (${cause})`);
    return STREAM_EXIT.unreachable;
  }
  const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
  if (!response.ok) {
    const message = typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`;
    io.err(`desktop-streamer stream ${action}: ${message}`);
    return response.status === 401 || response.status === 403
      ? STREAM_EXIT.noPermission
      : STREAM_EXIT.refused;
  }
  io.out(describe(action, body ?? {}));
  return STREAM_EXIT.ok;
}

function parseStreamArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      url: { type: 'string' },
      'token-file': { type: 'string' },
      timeout: { type: 'string' },
    },
    allowPositionals: true,
  });
  const [action, ...extra] = positionals;
  if (action === undefined) throw new Error('which action? one of start, stop, restart, cleanup');
  if (!(CONTROL_ACTIONS as readonly string[]).includes(action)) {
    throw new Error(`unknown action "${action}"; allowed: ${CONTROL_ACTIONS.join(', ')}`);
  }
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]}"`);
  const seconds = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new Error(`--timeout is "${values.timeout}"; allowed: seconds from 1 to 3600`);
  }
  return { action: action as Action, values: { ...values, timeoutMs: seconds * 1000 } };
}

/** One line for the operator (pure). */
export function describe(action: Action, body: Record<string, unknown>): string {
  if (action === 'cleanup') {
    return `cleanup done: ${Number(body.removed_files ?? 0)} file(s), ${Number(body.removed_bytes ?? 0)} bytes removed`;
  }
  return `${action}: done; pipeline state now ${String(body.state ?? 'unknown')}`;
}
