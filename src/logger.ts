import { type Logger, pino } from 'pino';
import { formatLogRecord } from './log-format.ts';

export type { Logger } from 'pino';

export interface LogLine {
  /** epoch ms */
  time: number;
  level: string;
  module: string | null;
  msg: string;
  /** The whole pino record. */
  record: Record<string, unknown>;
}

/**
 * Keeps the newest `capacity` log records in memory for `/api/logs`, and tells live
 * subscribers (Server-Sent Events) about each new one. Used as a pino destination.
 */
export class LogRing {
  readonly #capacity: number;
  readonly #lines: LogLine[] = [];
  readonly #subscribers = new Set<(line: LogLine) => void>();

  constructor(capacity = 2000) {
    this.#capacity = capacity;
  }

  /** pino destination interface: one JSON line per call. */
  write(chunk: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(chunk) as Record<string, unknown>;
    } catch {
      return;
    }
    const line: LogLine = {
      time: typeof record.time === 'number' ? record.time : Date.now(),
      level: pino.levels.labels[Number(record.level)] ?? String(record.level),
      module: typeof record.module === 'string' ? record.module : null,
      msg: typeof record.msg === 'string' ? record.msg : '',
      record,
    };
    this.#lines.push(line);
    if (this.#lines.length > this.#capacity) this.#lines.shift();
    for (const subscriber of this.#subscribers) subscriber(line);
  }

  lines(): readonly LogLine[] {
    return this.#lines;
  }

  subscribe(listener: (line: LogLine) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }
}

export interface LoggerOptions {
  level?: string;
  ring?: LogRing;
  /** Where log lines go besides the ring; default stdout (journald under systemd), or stderr for `pretty`. */
  destination?: NodeJS.WritableStream | { write(chunk: string): void };
  /**
   * `json` (one pino record per line) or `pretty` (one readable line, for a person). Default:
   * $LOG_FORMAT, else `pretty` when stderr is a terminal and no destination was given, else `json`.
   */
  format?: LogFormat;
}

export type LogFormat = 'json' | 'pretty';

export class LoggerConfigError extends Error {
  override readonly name = 'LoggerConfigError';
}

/** Redacted wherever they appear in a log record. */
export const REDACTED_PATHS = ['token', '*.token', 'api.token', 'password', '*.password', 'authorization'];

function chooseFormat(options: LoggerOptions): LogFormat {
  const chosen = options.format ?? process.env.LOG_FORMAT;
  if (chosen === undefined || chosen === '') {
    return options.destination === undefined && process.stderr.isTTY ? 'pretty' : 'json';
  }
  if (chosen !== 'json' && chosen !== 'pretty') {
    throw new LoggerConfigError(
      `LOG_FORMAT ${JSON.stringify(chosen)} is not allowed: use "json" or "pretty"`,
    );
  }
  return chosen;
}

/** A pino destination that turns each JSON line into a readable one. */
function prettyStream(
  target: { write(chunk: string): unknown },
  color: boolean,
): { write(chunk: string): void } {
  return {
    write(chunk) {
      try {
        target.write(`${formatLogRecord(JSON.parse(chunk) as Record<string, unknown>, { color })}\n`);
      } catch {
        target.write(chunk);
      }
    },
  };
}

/**
 * pino appends a child's bindings to its parent's, so `child({ module }).child({ module })`
 * wrote "module" twice in one JSON line (JSON.parse keeps the last, other readers differ).
 * Keeps one of each key, the child's value winning; the bindings are already serialized
 * (and redacted), so a JSON round trip keeps them as they were.
 */
function dedupeBindings(child: Logger): void {
  const key = pino.symbols.chindingsSym as unknown as keyof Logger;
  const chindings = (child as unknown as Record<typeof key, unknown>)[key];
  if (typeof chindings !== 'string' || chindings.length < 2) return;
  const merged = JSON.stringify(JSON.parse(`{${chindings.slice(1)}}`));
  if (merged.length - 1 !== chindings.length) {
    (child as unknown as Record<typeof key, unknown>)[key] = `,${merged.slice(1, -1)}`;
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = (options.level ?? process.env.LOG_LEVEL ?? 'info') as pino.Level;
  const format = chooseFormat(options);
  const destination =
    format === 'pretty'
      ? prettyStream(
          options.destination ?? process.stderr,
          options.destination === undefined && process.stderr.isTTY === true,
        )
      : (options.destination ?? process.stdout);
  // Each stream needs the level too: multistream entries default to "info" and would drop debug lines.
  const streams: pino.StreamEntry[] = [{ level, stream: destination }];
  if (options.ring) streams.push({ level, stream: options.ring });
  return pino(
    {
      level,
      base: { service: 'desktop-streamer' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      onChild: dedupeBindings,
    },
    pino.multistream(streams),
  );
}
