/**
 * sd_notify(3) for a Node process.
 *
 * Node cannot open AF_UNIX datagram sockets, so each notification is sent by the
 * `systemd-notify` binary (the unit needs `NotifyAccess=all`: the sender is a child,
 * not the main PID). Two details make this reliable with systemd ≥ 246 (Debian 12: 252):
 * - `systemd-notify` is run WITHOUT `--no-block`: it then follows the message with a
 *   `BARRIER=1` and waits until the manager has processed it. Without that, the child
 *   could exit (and be reaped) before the manager looks up its cgroup, and the manager
 *   drops the message ("Cannot find unit for notify message of PID …").
 * - `READY=1` carries `--pid=<our pid>`, i.e. `MAINPID=<our pid>`: the main PID stays
 *   this process even when ExecStart goes through a wrapper. (Run as root, systemd-notify
 *   also sends with our PID as its credentials; without CAP_SYS_ADMIN the kernel refuses
 *   that and it falls back to its own PID, which NotifyAccess=all accepts.)
 * A native addon would avoid the child per message, but it needs a compiler and
 * libsystemd headers on every kiosk; one short child every 15 s costs nothing.
 */

import type { Logger } from '../logger.ts';
import { describeFailure, runCommand } from '../system/run-command.ts';

export interface NotifierOptions {
  logger: Logger;
  /** Environment to read NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Sends one notification given the systemd-notify arguments; default runs systemd-notify. */
  run?: (args: string[]) => Promise<void>;
  /** PID of the supervisor; default process.pid (tests only change it). */
  pid?: number;
}

export interface Notifier {
  /** READY=1 with a status line; MAINPID is set to our PID. */
  ready(status: string): Promise<void>;
  /** WATCHDOG=1: only call while the supervisor's own loop is healthy. */
  watchdog(): Promise<void>;
  /** STATUS=<one line>. */
  status(text: string): Promise<void>;
  /** STOPPING=1. */
  stopping(): Promise<void>;
  /** Half of WATCHDOG_USEC, or null when systemd's watchdog is off (or meant for another PID). */
  readonly watchdogIntervalMs: number | null;
  /** False when NOTIFY_SOCKET is unset: every method is then a no-op. */
  readonly enabled: boolean;
}

/** STATUS= is one line; systemd shows it in `systemctl status`. */
const MAX_STATUS_LENGTH = 200;

/** A STATUS= value on one line: newlines and control characters become spaces. */
export function oneLineStatus(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_STATUS_LENGTH ? `${line.slice(0, MAX_STATUS_LENGTH - 1)}…` : line;
}

/**
 * The interval at which to send WATCHDOG=1: half of WATCHDOG_USEC, as sd_watchdog_enabled(3)
 * recommends; null when WATCHDOG_USEC is missing/invalid or WATCHDOG_PID names another process.
 */
export function watchdogIntervalFromEnv(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^\d+$/.test(usecText)) return null;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

export class NotifyError extends Error {
  override readonly name = 'NotifyError';
}

function systemdNotifyRunner(notifySocket: string): (args: string[]) => Promise<void> {
  return async (args) => {
    const result = await runCommand('systemd-notify', args, {
      env: { NOTIFY_SOCKET: notifySocket },
      timeoutMs: 10_000,
    });
    if (result.exitCode !== 0) {
      throw new NotifyError(
        `systemd-notify ${args.join(' ')} failed: ${describeFailure('systemd-notify', result)}`,
      );
    }
  };
}

export function createNotifier(options: NotifierOptions): Notifier {
  const env = options.env ?? process.env;
  const pid = options.pid ?? process.pid;
  const logger = options.logger.child({ module: 'systemd-notify' });
  const notifySocket = env.NOTIFY_SOCKET;
  const enabled = notifySocket !== undefined && notifySocket !== '';
  const run = options.run ?? (enabled ? systemdNotifyRunner(notifySocket) : async () => {});

  async function send(args: string[]): Promise<void> {
    if (!enabled) return;
    try {
      await run(args);
    } catch (error) {
      // A lost notification must never take the supervisor down; systemd's own
      // timeouts (TimeoutStartSec, WatchdogSec) are the safety net.
      logger.warn({ err: error, args }, 'could not notify systemd');
    }
  }

  return {
    enabled,
    watchdogIntervalMs: enabled ? watchdogIntervalFromEnv(env, pid) : null,
    ready: (status) => send(['--ready', `--pid=${pid}`, `--status=${oneLineStatus(status)}`]),
    watchdog: () => send(['WATCHDOG=1']),
    status: (text) => send([`--status=${oneLineStatus(text)}`]),
    stopping: () => send(['STOPPING=1']),
  };
}

export interface WatchdogPings {
  stop(): void;
}

/**
 * Sends WATCHDOG=1 every `notifier.watchdogIntervalMs` while `isHealthy()` is true.
 * When it turns false the pings stop, and systemd restarts the service after
 * WatchdogSec. A ping still in flight is never doubled up. No-op when the watchdog is off.
 */
export function startWatchdogPings(notifier: Notifier, isHealthy: () => boolean): WatchdogPings {
  const interval = notifier.watchdogIntervalMs;
  if (!notifier.enabled || interval === null) return { stop() {} };
  let inFlight = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped || inFlight || !isHealthy()) return;
    inFlight = true;
    notifier.watchdog().finally(() => {
      inFlight = false;
    });
  }, interval);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
