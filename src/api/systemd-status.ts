import { readFile } from 'node:fs/promises';
import { runCommand } from '../system/run-command.ts';

export interface SystemdUnitState {
  unit: string;
  ActiveState: string;
  SubState: string;
}

/** True when this process was started by systemd (systemd sets INVOCATION_ID for every unit it runs). */
export function runningUnderSystemd(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env.INVOCATION_ID === 'string' && env.INVOCATION_ID.length > 0;
}

/** The unit holding this process, from the last component of its cgroup path (e.g. desktop-streamer.service). */
export function unitFromCgroup(cgroupFile: string): string | null {
  for (const line of cgroupFile.split('\n')) {
    const cgroupPath = line.split(':')[2];
    const unit = cgroupPath
      ?.split('/')
      .reverse()
      .find((part) => /\.(service|scope)$/.test(part));
    if (unit) return unit;
  }
  return null;
}

/** Parses `systemctl show --property=ActiveState,SubState` output (KEY=value lines). */
export function parseSystemctlShow(output: string): { ActiveState: string; SubState: string } | null {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const active = values.get('ActiveState');
  const sub = values.get('SubState');
  return active && sub ? { ActiveState: active, SubState: sub } : null;
}

export interface SystemdStatusOptions {
  fallbackUnit?: string;
  /** Cache answers this long: /api/status may be polled often and systemctl is a process spawn. */
  cacheMs?: number;
  timeoutMs?: number;
}

/** Reads this service's state from systemd; null when not under systemd or systemctl fails. */
export class SystemdStatusReader {
  readonly #fallbackUnit: string;
  readonly #cacheMs: number;
  readonly #timeoutMs: number;
  #cached: { at: number; value: SystemdUnitState | null } | null = null;

  constructor(options: SystemdStatusOptions = {}) {
    this.#fallbackUnit = options.fallbackUnit ?? 'desktop-streamer.service';
    this.#cacheMs = options.cacheMs ?? 5000;
    this.#timeoutMs = options.timeoutMs ?? 2000;
  }

  async read(): Promise<SystemdUnitState | null> {
    if (!runningUnderSystemd()) return null;
    if (this.#cached && Date.now() - this.#cached.at < this.#cacheMs) return this.#cached.value;
    const value = await this.#query();
    this.#cached = { at: Date.now(), value };
    return value;
  }

  async #query(): Promise<SystemdUnitState | null> {
    let unit = this.#fallbackUnit;
    try {
      unit = unitFromCgroup(await readFile('/proc/self/cgroup', 'utf8')) ?? unit;
    } catch {
      // keep the fallback unit name
    }
    const result = await runCommand('systemctl', ['show', '--property=ActiveState,SubState', '--', unit], {
      timeoutMs: this.#timeoutMs,
    });
    if (result.exitCode !== 0) return null;
    const state = parseSystemctlShow(result.stdout);
    return state ? { unit, ...state } : null;
  }
}
