/**
 * `desktop-streamer status [--url URL] [--config PATH] [--json]`: a compact summary of a running
 * supervisor, found at --url, $DESKTOP_STREAMER_URL, or the address its config file gives.
 * Exit 0 healthy, 1 unhealthy, 2 unreachable (or not a desktop-streamer), 64 bad usage.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { DetailedJson, StatusJson } from '../api/health-model.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';

export const STATUS_EXIT = { healthy: 0, unhealthy: 1, unreachable: 2, usage: 64 } as const;

export const DEFAULT_STATUS_URL = 'http://127.0.0.1:8888';

const USAGE = `Usage: desktop-streamer status [--url URL] [--config PATH] [--json] [--token-file PATH] [--timeout SECONDS]

  --url URL          supervisor base URL (default $DESKTOP_STREAMER_URL, else the bind_address
                     and port of the config file, else ${DEFAULT_STATUS_URL})
  --config PATH      the config file to take the address from (default $DESKTOP_STREAMER_CONFIG
                     or /etc/desktop-streamer/config.json)
  --json             print the raw status (and details) as JSON
  --token-file PATH  bearer token for a supervisor with api.public_read=false
                     (or $DESKTOP_STREAMER_API_TOKEN)
  --timeout SECONDS  per request (default 5)

Exit status: 0 healthy, 1 unhealthy, 2 unreachable.`;

export interface StatusIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: StatusIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

export interface StatusReport {
  url: string;
  status: StatusJson;
  /** null when /api/health/detailed was not available (older supervisor, or not allowed). */
  detailed: DetailedJson | null;
}

class UnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnreachableError';
  }
}

/**
 * Where a supervisor with this config answers, from this host: a wildcard bind address is reached
 * on loopback. Pure.
 */
export function statusUrlFor(config: Pick<Config, 'bind_address' | 'port'>): string {
  const wildcard = ['', '0.0.0.0', '::', '[::]'].includes(config.bind_address);
  const ipv6 = config.bind_address.includes(':');
  const host = wildcard
    ? config.bind_address.includes(':')
      ? '[::1]'
      : '127.0.0.1'
    : ipv6 && !config.bind_address.startsWith('[')
      ? `[${config.bind_address}]`
      : config.bind_address;
  return `http://${host}:${config.port}`;
}

/** The config file's address; the default URL (with a note) when it cannot be read. */
async function urlFromConfigFile(flag: string | undefined, io: StatusIo): Promise<string> {
  try {
    return statusUrlFor((await loadConfig(flag, io.env)).config);
  } catch (error) {
    io.err(`desktop-streamer status: ${(error as Error).message}; trying ${DEFAULT_STATUS_URL}`);
    return DEFAULT_STATUS_URL;
  }
}

export async function runStatus(argv: string[], io: StatusIo = defaultIo): Promise<number> {
  let options: { url: string; json: boolean; tokenFile?: string; timeoutMs: number };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        'token-file': { type: 'string' },
        timeout: { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      io.out(USAGE);
      return STATUS_EXIT.healthy;
    }
    const timeoutSeconds = Number(values.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
      throw new Error(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
    }
    const url = values.url ?? io.env.DESKTOP_STREAMER_URL ?? (await urlFromConfigFile(values.config, io));
    if (!/^https?:\/\/[^/]/.test(url)) throw new Error(`--url must be an http(s) URL, got "${url}"`);
    options = {
      url: url.replace(/\/+$/, ''),
      json: values.json,
      tokenFile: values['token-file'],
      timeoutMs: timeoutSeconds * 1000,
    };
  } catch (error) {
    io.err(`desktop-streamer status: ${error instanceof Error ? error.message : String(error)}`);
    io.err(USAGE);
    return STATUS_EXIT.usage;
  }

  let token: string | null = io.env.DESKTOP_STREAMER_API_TOKEN?.trim() || null;
  if (options.tokenFile) {
    try {
      token = (await readFile(options.tokenFile, 'utf8')).trim();
    } catch (error) {
      io.err(
        `desktop-streamer status: cannot read --token-file ${options.tokenFile}: ${(error as Error).message}`,
      );
      return STATUS_EXIT.usage;
    }
  }

  let report: StatusReport;
  try {
    report = await fetchReport(options.url, token, options.timeoutMs);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (options.json) io.out(JSON.stringify({ url: options.url, reachable: false, error: message }, null, 2));
    else io.err(`desktop-streamer at ${options.url}: UNREACHABLE (${message})`);
    return STATUS_EXIT.unreachable;
  }

  const healthy = isReportHealthy(report);
  if (options.json) {
    io.out(JSON.stringify({ reachable: true, healthy, ...report }, null, 2));
  } else {
    for (const line of formatReport(report, Date.now())) io.out(line);
  }
  return healthy ? STATUS_EXIT.healthy : STATUS_EXIT.unhealthy;
}

async function fetchJson(
  url: string,
  token: string | null,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new UnreachableError(cause?.code ?? (error as Error).message, { cause: error });
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: handled by the caller
  }
  return { status: response.status, body };
}

async function fetchReport(baseUrl: string, token: string | null, timeoutMs: number): Promise<StatusReport> {
  const status = await fetchJson(`${baseUrl}/api/status`, token, timeoutMs);
  if (status.status === 401 || status.status === 403) {
    throw new UnreachableError(
      `HTTP ${status.status}: a token is needed (--token-file or DESKTOP_STREAMER_API_TOKEN)`,
    );
  }
  if (status.status !== 200 || !looksLikeStatus(status.body)) {
    throw new UnreachableError(`HTTP ${status.status} from /api/status: not a desktop-streamer status`);
  }
  let detailed: DetailedJson | null = null;
  try {
    const answer = await fetchJson(`${baseUrl}/api/health/detailed`, token, timeoutMs);
    if (
      answer.status === 200 &&
      typeof answer.body === 'object' &&
      answer.body !== null &&
      'healthy' in answer.body
    ) {
      detailed = answer.body as DetailedJson;
    }
  } catch {
    // details are optional
  }
  return { url: baseUrl, status: status.body, detailed };
}

function looksLikeStatus(body: unknown): body is StatusJson {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  return ['service', 'stream', 'health', 'system'].every(
    (key) => typeof b[key] === 'object' && b[key] !== null,
  );
}

/** Healthy as /api/health judges it: streaming with fresh segments (fallback for older supervisors: PLAYING + fresh segments). */
export function isReportHealthy(report: StatusReport): boolean {
  if (report.detailed) return report.detailed.healthy;
  const h = report.status.health;
  return report.status.service.active && h.current_state === 'PLAYING' && h.stream_active;
}

function ago(fromIso: string, now: number): string {
  const seconds = Math.max(0, (now - Date.parse(fromIso)) / 1000);
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h ago`;
  return `${(seconds / 86_400).toFixed(1)} d ago`;
}

function pct(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(1)} %`;
}

function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The human-readable summary (pure). */
export function formatReport(report: StatusReport, now: number): string[] {
  const { status, detailed: d } = report;
  const h = status.health;
  const healthy = isReportHealthy(report);
  const lines = [`desktop-streamer at ${report.url}: ${healthy ? 'HEALTHY' : 'UNHEALTHY'}`];
  const label = (name: string, text: string) => lines.push(`  ${name.padEnd(9)} ${text}`);

  const svc = status.service;
  label(
    'service',
    `${svc.active ? 'active' : 'inactive'} (${svc.details.ActiveState}/${svc.details.SubState})${svc.source ? ` via ${svc.source}` : ''}`,
  );
  if (d) {
    label(
      'pipeline',
      `${d.supervisor.state} · GStreamer ${h.current_state} · since ${ago(d.supervisor.state_since, now)}`,
    );
  } else {
    label('pipeline', `GStreamer ${h.current_state} · up ${h.uptime_minutes.toFixed(1)} min`);
  }

  const streamParts = [h.stream_active ? 'segments arriving' : 'STALLED (no new segment)'];
  if (d && d.stream.segment_lag_seconds !== null)
    streamParts.push(`lag ${d.stream.segment_lag_seconds.toFixed(1)} s`);
  streamParts.push(`${status.stream.segment_count} files (${status.stream.total_size_mb.toFixed(1)} MB)`);
  streamParts.push(status.stream.playlist_exists ? 'playlist ok' : 'NO PLAYLIST');
  label('stream', streamParts.join(' · '));

  if (d?.capture) {
    const c = d.capture as { monitor: { name: string; geometry: string }; encoder: { element: string } };
    label('capture', `${c.monitor.name} ${c.monitor.geometry} · ${c.encoder.element}`);
  }

  let restarts = String(h.restart_count);
  const lastRestart = d?.restarts.recent.at(-1);
  if (lastRestart)
    restarts += ` · last ${ago(lastRestart.at, now)}: ${lastRestart.reason}${lastRestart.detail ? ` (${oneLine(lastRestart.detail, 60)})` : ''}`;
  label('restarts', restarts);

  let errors = `${h.recent_errors} recent / ${h.total_errors} total`;
  if (h.last_error) errors += ` · last: ${oneLine(h.last_error)}`;
  label('errors', errors);

  label(
    'system',
    `CPU ${pct(status.system.cpu_percent)} · memory ${pct(status.system.memory_percent)} · disk ${pct(status.system.disk_usage_percent)} · streamer ${h.memory_usage_mb.toFixed(0)} MB`,
  );
  return lines;
}
