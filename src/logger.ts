import { type Logger, pino } from 'pino';

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
  /** Where JSON lines go besides the ring; default stdout (journald under systemd). */
  destination?: NodeJS.WritableStream | { write(chunk: string): void };
}

/** Redacted wherever they appear in a log record. */
export const REDACTED_PATHS = ['token', '*.token', 'api.token', 'password', '*.password', 'authorization'];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = (options.level ?? process.env.LOG_LEVEL ?? 'info') as pino.Level;
  // Each stream needs the level too: multistream entries default to "info" and would drop debug lines.
  const streams: pino.StreamEntry[] = [{ level, stream: options.destination ?? process.stdout }];
  if (options.ring) streams.push({ level, stream: options.ring });
  return pino(
    {
      level,
      base: { service: 'desktop-streamer' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    pino.multistream(streams),
  );
}
