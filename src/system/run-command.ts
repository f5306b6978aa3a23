/**
 * Runs a short command to completion (xrandr, gst-inspect, systemctl, systemd-notify) with
 * node:child_process. execa did this before; it cost the long-running supervisor ≈ 7.5 MB of
 * resident memory for what execFile already does (bench/README.md, issue 9's 80 MB budget).
 */
import { execFile } from 'node:child_process';

export interface CommandResult {
  /** Exit status; null when the command did not run or was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Why it did not run or finish: ENOENT, EACCES, … or 'TIMEOUT'; null otherwise. */
  failure: { code: string; message: string } | null;
}

export interface RunOptions {
  /** Killed with SIGKILL after this many ms. */
  timeoutMs: number;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Never rejects: every outcome is in the result, for the caller to judge. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: MAX_OUTPUT_BYTES,
        env: options.env ? { ...process.env, ...options.env } : process.env,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ exitCode: 0, signal: null, stdout, stderr, failure: null });
          return;
        }
        const e = error as NodeJS.ErrnoException & {
          code?: string | number;
          killed?: boolean;
          signal?: NodeJS.Signals | null;
        };
        const timedOut = e.killed === true && e.signal === 'SIGKILL';
        const spawnFailure = typeof e.code === 'string';
        resolve({
          exitCode: typeof e.code === 'number' ? e.code : null,
          signal: e.signal ?? null,
          stdout,
          stderr,
          failure: timedOut
            ? { code: 'TIMEOUT', message: `${file} timed out after ${options.timeoutMs} ms` }
            : spawnFailure
              ? { code: e.code as string, message: e.message }
              : null,
        });
      },
    );
  });
}

/** One line saying why a command failed, for error messages: its stderr, else how it ended. */
export function describeFailure(file: string, result: CommandResult): string {
  const stderr = result.stderr.trim();
  if (stderr) return stderr;
  if (result.failure) return result.failure.message;
  if (result.signal) return `${file} was killed by ${result.signal}`;
  return `${file} exited with status ${result.exitCode}`;
}
