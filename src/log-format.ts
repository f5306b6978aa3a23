/**
 * One pino JSON record as a line for a person at a terminal:
 * `14:03:07.512 WARN  pipeline: restarting pipeline reason=stall attempt=2`. Pure, and small on
 * purpose: pino-pretty would add a dependency (and its memory) to the service for a dev nicety.
 */

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '\x1b[90m' },
  20: { name: 'DEBUG', color: '\x1b[36m' },
  30: { name: 'INFO', color: '\x1b[32m' },
  40: { name: 'WARN', color: '\x1b[33m' },
  50: { name: 'ERROR', color: '\x1b[31m' },
  60: { name: 'FATAL', color: '\x1b[35m' },
};
const RESET = '\x1b[0m';

/** Fields shown in the line's fixed part, or not at all (the same on every line). */
const SHOWN_APART = new Set(['time', 'level', 'msg', 'module', 'service', 'pid', 'hostname']);

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object' && 'message' in value) {
    // A serialized error: its message is what a person needs here; the JSON log keeps the stack.
    return JSON.stringify(String((value as { message: unknown }).message));
  }
  return JSON.stringify(value) ?? String(value);
}

function clockTime(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function formatLogRecord(record: Record<string, unknown>, options: { color: boolean }): string {
  const level = LEVELS[Number(record.level)] ?? { name: String(record.level), color: '' };
  const time = typeof record.time === 'number' ? clockTime(record.time) : '--:--:--.---';
  const name = level.name.padEnd(5);
  const shownLevel = options.color && level.color ? `${level.color}${name}${RESET}` : name;
  const module = typeof record.module === 'string' ? `${record.module}: ` : '';
  const fields = Object.entries(record)
    .filter(([key]) => !SHOWN_APART.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  const msg = typeof record.msg === 'string' ? record.msg : '';
  return [`${time} ${shownLevel} ${module}${msg}`, ...fields].join(' ');
}
