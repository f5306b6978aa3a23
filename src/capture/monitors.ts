/**
 * Which monitor to capture: parse `xrandr --listmonitors` (pure), pick the configured one (pure),
 * and ask xrandr (I/O).
 */

import type { Config } from '../config/schema.ts';
import { describeFailure, runCommand } from '../system/run-command.ts';
import type { Monitor } from './types.ts';

export class MonitorDetectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MonitorDetectionError';
  }
}

// " 1: +*DUMMY1 1280/338x720/190+1920+0  DUMMY1"; flags "+" (automatic) and "*" (primary) are optional,
// physical sizes may be 0, offsets may be negative, a --setmonitor monitor may list several outputs or none.
const MONITOR_LINE = /^\s*(\d+):\s+(\+)?(\*)?(\S+)\s+(\d+)\/\d+x(\d+)\/\d+([+-]\d+)([+-]\d+)(?:\s+(.*))?$/;

export function parseListMonitors(text: string): Monitor[] {
  const monitors: Monitor[] = [];
  for (const line of text.split('\n')) {
    const m = MONITOR_LINE.exec(line);
    if (!m) continue;
    const outputs = (m[9] ?? '').trim().split(/\s+/).filter(Boolean);
    monitors.push({
      index: Number(m[1]),
      name: m[4]!,
      outputs,
      primary: m[3] === '*',
      width: Number(m[5]),
      height: Number(m[6]),
      x: Number(m[7]),
      y: Number(m[8]),
    });
  }
  return monitors;
}

export interface MonitorSelection {
  monitor: Monitor;
  fallbackToPrimary: boolean;
}

export function describeMonitors(monitors: Monitor[]): string {
  if (monitors.length === 0) return 'no monitors';
  return monitors.map((m) => `${m.index}:${m.name}${m.primary ? '(primary)' : ''}`).join(', ');
}

/**
 * The monitor to capture. `auto` = the first non-primary monitor (the kiosk's second screen).
 * Returns null when the wanted monitor is not there and falling back to the primary one is not allowed
 * or not possible: the caller then streams a "no signal" slate and keeps looking.
 */
export function selectMonitor(
  monitors: Monitor[],
  wanted: Config['monitor'],
  allowFallback: boolean,
): MonitorSelection | null {
  let found: Monitor | undefined;
  if (wanted === 'auto') {
    // Without a primary flag (none set, or a reading mid-change) every monitor is "not primary"
    // and the first of them is the first screen: then the second one listed is the second screen.
    const second = monitors.some((m) => m.primary) ? monitors.find((m) => !m.primary) : monitors[1];
    found = monitors.length > 1 ? second : undefined;
  } else if (typeof wanted === 'number') {
    found = monitors.find((m) => m.index === wanted);
  } else {
    found = monitors.find((m) => m.name === wanted || m.outputs.includes(wanted));
  }
  if (found) return { monitor: found, fallbackToPrimary: false };
  if (!allowFallback || monitors.length === 0) return null;
  const primary = monitors.find((m) => m.primary) ?? monitors[0]!;
  return { monitor: primary, fallbackToPrimary: true };
}

/**
 * A healthy X server answers in milliseconds; a hung one would hold the slate back for as long
 * as this (bench/README.md, Recovery).
 */
const XRANDR_TIMEOUT_MS = 3000;

/** Run `xrandr --listmonitors` on `display`. */
export async function listMonitors(display: string): Promise<Monitor[]> {
  const result = await runCommand('xrandr', ['--display', display, '--listmonitors'], {
    timeoutMs: XRANDR_TIMEOUT_MS,
  });
  if (result.failure?.code === 'ENOENT') {
    throw new MonitorDetectionError('xrandr is not installed (Debian package x11-xserver-utils)');
  }
  if (result.exitCode !== 0) {
    throw new MonitorDetectionError(
      `cannot list monitors on X display ${display}: ${describeFailure('xrandr', result)}`,
    );
  }
  const { stdout } = result;
  return parseListMonitors(stdout);
}

/** `WxH+X+Y`, as X11 geometry strings read. */
export function geometryOf(monitor: Monitor): string {
  const sign = (n: number) => (n < 0 ? `${n}` : `+${n}`);
  return `${monitor.width}x${monitor.height}${sign(monitor.x)}${sign(monitor.y)}`;
}
