/** Spawning and ending the processes a bench measures, always bounded. */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Last 4 kB of stderr. */
  stderr(): string;
  exited: Promise<number | null>;
}

export async function spawnMeasured(
  command: string,
  args: string[],
  options: SpawnOptions & { extraFds?: number } = {},
): Promise<Spawned> {
  const extra = Array.from({ length: options.extraFds ?? 0 }, () => 'pipe' as const);
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe', ...extra] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  // Drain every output like a reader that keeps up (the supervisor reads stdout and the tap fds).
  for (const stream of child.stdio.slice(1)) (stream as NodeJS.ReadableStream | null)?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await Promise.race([once(child, 'spawn'), once(child, 'error').then(([e]) => Promise.reject(e))]);
  return { child, pid: child.pid as number, stderr: () => stderr, exited };
}

/** SIGINT (gst-launch -e and ffmpeg both finish their files on it), SIGKILL after graceMs. */
export async function endGracefully(spawned: Spawned, graceMs = 10_000): Promise<void> {
  if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) return;
  spawned.child.kill('SIGINT');
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), graceMs);
  await spawned.exited;
  clearTimeout(timer);
}

export function isRunning(spawned: Spawned): boolean {
  return spawned.child.exitCode === null && spawned.child.signalCode === null;
}
