/**
 * The rig's two-monitor Xorg started as a display manager starts it, with `-auth COOKIE-FILE`
 * (scripts/virtual-desktop.sh start --auth): only clients with the cookie or an xhost grant
 * may connect. Same layout and content as test/helpers/rig.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExecaError, execa } from 'execa';
import { requireRigTools } from './rig.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/virtual-desktop.sh', import.meta.url));
const FIRST_CANDIDATE_DISPLAY = 700;
const CANDIDATE_SPREAD = 250;
const MAX_START_ATTEMPTS = 8;
const EXIT_DISPLAY_IN_USE = 2;

export interface AuthRig {
  display: string;
  /** The cookie file the server was started with (what the kiosk session's XAUTHORITY holds). */
  xauthority: string;
  stop(): Promise<void>;
}

export class AuthRigError extends Error {
  override name = 'AuthRigError';
}

function looksTaken(n: number): boolean {
  return (
    existsSync(`/tmp/.X11-unix/X${n}`) ||
    existsSync(`/tmp/.X${n}-lock`) ||
    existsSync(`/tmp/desktop-streamer-rig-${n}`)
  );
}

export async function startAuthRig(): Promise<AuthRig> {
  requireRigTools();
  let candidate = FIRST_CANDIDATE_DISPLAY + Math.floor(Math.random() * CANDIDATE_SPREAD);
  for (let attempt = 0; attempt < MAX_START_ATTEMPTS; attempt++, candidate++) {
    while (looksTaken(candidate)) candidate++;
    const display = `:${candidate}`;
    let stdout: string;
    try {
      stdout = (
        await execa(SCRIPT, ['start', '--display', display, '--auth'], { timeout: 30_000, stdin: 'ignore' })
      ).stdout;
    } catch (error) {
      if (error instanceof ExecaError && error.exitCode === EXIT_DISPLAY_IN_USE) continue;
      const detail = error instanceof ExecaError ? `exit ${error.exitCode}: ${error.stderr}` : String(error);
      throw new AuthRigError(`virtual-desktop.sh start --display ${display} --auth failed (${detail})`, {
        cause: error,
      });
    }
    const xauthority = /^XAUTHORITY=(.+)$/m.exec(stdout)?.[1];
    const stopSync = () =>
      spawnSync(SCRIPT, ['stop', '--display', display], { stdio: 'ignore', timeout: 30_000 });
    if (!xauthority) {
      stopSync();
      throw new AuthRigError(`virtual-desktop.sh start --auth printed no XAUTHORITY= line: ${stdout}`);
    }
    process.once('exit', stopSync);
    let stopped = false;
    return {
      display,
      xauthority,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.removeListener('exit', stopSync);
        await execa(SCRIPT, ['stop', '--display', display], { timeout: 30_000, stdin: 'ignore' });
      },
    };
  }
  throw new AuthRigError(`no free X display found after ${MAX_START_ATTEMPTS} attempts`);
}
