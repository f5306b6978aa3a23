/**
 * Watches the monitor layout for unplug/replug/resize. One long-lived `sh` runs
 * `xrandr --listmonitors` every few seconds and prints each answer between markers: the
 * supervisor, a large process that is costly to fork, never forks for the poll (it was a third
 * of its CPU when it spawned xrandr itself every 3 s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../logger.ts';
import { parseListMonitors } from './monitors.ts';
import type { Monitor } from './types.ts';

export type MonitorReading = { monitors: Monitor[] } | { error: string };
/** A reading and when it arrived (epoch ms). */
export type TimedMonitorReading = MonitorReading & { at: number };

const END = '--desktop-streamer-end--';

// $1 display, $2 interval, $3 timeout (seconds). `timeout` bounds a query to a hung X server.
// Each answer goes out in one write, so the supervisor wakes once per reading.
const LOOP = `while :; do
  out=$(timeout "$3" xrandr --display "$1" --listmonitors 2>&1) || out="$out
xrandr failed (status $?)"
  printf '%s\\n%s\\n' "$out" "${END}"
  sleep "$2"
done`;

/** One answer of the loop (the lines between two markers) as a reading. Pure. */
export function readingFrom(lines: string[]): MonitorReading {
  const text = lines.join('\n');
  if (/^Monitors:/m.test(text)) return { monitors: parseListMonitors(text) };
  return { error: text.trim() || 'xrandr printed nothing' };
}

export class MonitorWatcher {
  readonly #display: string;
  readonly #intervalSeconds: number;
  readonly #log: Logger;
  readonly #env: NodeJS.ProcessEnv | undefined;
  #child: ChildProcess | null = null;
  #current: TimedMonitorReading | null = null;
  #lines: string[] = [];
  #stopped = false;
  readonly #listeners: Array<() => void> = [];

  constructor(options: {
    display: string;
    intervalSeconds: number;
    logger: Logger;
    env?: NodeJS.ProcessEnv;
  }) {
    this.#env = options.env;
    this.#display = options.display;
    this.#intervalSeconds = options.intervalSeconds;
    this.#log = options.logger.child({ module: 'monitor-watch' });
  }

  start(): void {
    this.#stopped = false;
    const child = spawn('sh', ['-c', LOOP, 'sh', this.#display, String(this.#intervalSeconds), '3'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: this.#env ?? process.env,
      detached: true, // its own process group, so stop() also ends a sleep or xrandr in flight
    });
    this.#child = child;
    // A failed spawn (EAGAIN under TasksMax, ENOMEM) is an 'error' event: without a listener it
    // would crash the supervisor. The loop is tried again, as when it ends.
    child.once('error', (error) => {
      if (this.#child !== child) return;
      this.#log.warn(
        { code: (error as NodeJS.ErrnoException).code, msg: error.message },
        'monitor watch loop could not start; trying again',
      );
      this.#current = null;
      this.#child = null;
      setTimeout(() => {
        if (this.#child === null && !this.#stopped) this.start();
      }, 1000).unref();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line !== END) {
        this.#lines.push(line);
        return;
      }
      this.#current = { ...readingFrom(this.#lines), at: Date.now() };
      this.#lines = [];
      for (const listener of this.#listeners) listener();
    });
    child.once('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#log.warn({ code, signal }, 'monitor watch loop ended; starting it again');
      this.#current = null;
      setTimeout(() => this.#child === child && this.start(), 1000).unref();
    });
  }

  /** The newest answer, or null before the first. */
  current(): TimedMonitorReading | null {
    return this.#current;
  }

  /** `listener` is called after each new reading (current() then returns it). */
  onReading(listener: () => void): void {
    this.#listeners.push(listener);
  }

  stop(): void {
    this.#stopped = true;
    const pid = this.#child?.pid;
    this.#child = null;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
