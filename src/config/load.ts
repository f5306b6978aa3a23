/**
 * Finding and reading the config file: `--config PATH`, then $DESKTOP_STREAMER_CONFIG, then
 * /etc/desktop-streamer/config.json. The file may carry // and /* *\/ comments, as the earlier
 * system's documented example does.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from './schema.ts';
import { type ConfigIssue, formatIssue, validateConfig } from './validate.ts';

export const DEFAULT_CONFIG_PATH = '/etc/desktop-streamer/config.json';

/** The config file is unreadable, not JSON, or has invalid values. Exit status 78 (EX_CONFIG). */
export class ConfigError extends Error {
  readonly path: string | null;
  readonly issues: ConfigIssue[];

  constructor(path: string | null, message: string, issues: ConfigIssue[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.path = path;
    this.issues = issues;
  }
}

export interface LoadedConfig {
  config: Config;
  /** null when no file exists at the default path and the defaults are used. */
  path: string | null;
  warnings: string[];
}

export function resolveConfigPath(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): { path: string; explicit: boolean } {
  if (flag) return { path: flag, explicit: true };
  if (env.DESKTOP_STREAMER_CONFIG) return { path: env.DESKTOP_STREAMER_CONFIG, explicit: true };
  return { path: DEFAULT_CONFIG_PATH, explicit: false };
}

/**
 * Remove // line comments, /* block *\/ comments and trailing commas (before `}` or `]`), all
 * outside of strings only: text inside a string is never changed.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  /** Index in `out` of a comma seen outside strings that may turn out to be trailing. */
  let pendingComma = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += next ?? '';
        i++;
      } else if (ch === '"') {
        inString = false;
      }
    } else if (ch === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 1;
    } else if (ch === '}' || ch === ']') {
      if (pendingComma !== -1) out = `${out.slice(0, pendingComma)} ${out.slice(pendingComma + 1)}`;
      pendingComma = -1;
      out += ch;
    } else {
      if (ch === ',') pendingComma = out.length;
      else if (!/\s/.test(ch)) pendingComma = -1;
      if (ch === '"') inString = true;
      out += ch;
    }
  }
  return out;
}

export function parseConfigText(text: string, path: string | null): LoadedConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripJsonComments(text));
  } catch (error) {
    throw new ConfigError(path, `${path ?? 'config'}: not valid JSON: ${(error as Error).message}`, [], {
      cause: error,
    });
  }
  const { config, errors, warnings } = validateConfig(parsed);
  if (errors.length > 0) {
    const lines = errors.map((issue) => `  ${formatIssue(issue)}`).join('\n');
    throw new ConfigError(path, `${path ?? 'config'}: ${errors.length} invalid value(s):\n${lines}`, errors);
  }
  return { config, path, warnings };
}

export async function loadConfig(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const { path, explicit } = resolveConfigPath(flag, env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) {
      const loaded = parseConfigText('{}', null);
      loaded.warnings.push(`no config file at ${path}: using the built-in kiosk defaults`);
      return loaded;
    }
    throw new ConfigError(
      path,
      `${path}: cannot read the config file (${code ?? (error as Error).message})`,
      [],
      {
        cause: error,
      },
    );
  }
  return parseConfigText(text, path);
}
