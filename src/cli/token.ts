/**
 * The API token as the service finds it, for commands run by an operator on the kiosk:
 * $DESKTOP_STREAMER_API_TOKEN, then api.token_file, then the systemd credential the unit loads
 * (LoadCredential=api-token:/etc/desktop-streamer/api-token, or $CREDENTIALS_DIRECTORY/api-token),
 * then api.token. An explicit --token-file comes first.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';

/** The file desktop-streamer.service loads as its `api-token` credential. */
export const SERVICE_TOKEN_FILE = '/etc/desktop-streamer/api-token';

export class TokenFileError extends Error {
  readonly file: string;
  constructor(file: string, options: { cause: unknown }) {
    const code = (options.cause as NodeJS.ErrnoException).code ?? (options.cause as Error).message;
    super(`cannot read the API token file ${file} (${code})`, options);
    this.name = 'TokenFileError';
    this.file = file;
  }
}

export interface TokenSources {
  tokenFile?: string;
  config: Pick<Config, 'api'> | null;
  env: NodeJS.ProcessEnv;
  read?: (file: string) => Promise<string>;
}

/** The token and where it came from, or null when none is configured anywhere. */
export async function resolveCliToken(
  sources: TokenSources,
): Promise<{ token: string; from: string } | null> {
  const read = sources.read ?? ((file: string) => readFile(file, 'utf8'));
  const fromFile = async (file: string, required: boolean) => {
    try {
      const token = (await read(file)).trim();
      return token ? { token, from: file } : null;
    } catch (error) {
      if (required) throw new TokenFileError(file, { cause: error });
      return null;
    }
  };
  if (sources.tokenFile) return fromFile(sources.tokenFile, true);
  const envToken = sources.env.DESKTOP_STREAMER_API_TOKEN?.trim();
  if (envToken) return { token: envToken, from: '$DESKTOP_STREAMER_API_TOKEN' };
  const api = sources.config?.api;
  if (api?.token_file) return fromFile(api.token_file, true);
  const credentials = sources.env.CREDENTIALS_DIRECTORY;
  for (const file of [credentials ? join(credentials, 'api-token') : null, SERVICE_TOKEN_FILE]) {
    if (file === null) continue;
    const found = await fromFile(file, false);
    if (found) return found;
  }
  return api?.token ? { token: api.token, from: 'api.token of the config file' } : null;
}
