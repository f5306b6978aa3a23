/**
 * What the capture benches share: full-motion content on the rig's second monitor, and the
 * supervisor's own capture argv (buildCaptureArgs) writing its MPEG-TS to a file instead of fd 5.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { buildCaptureArgs, MEDIA_FD } from '../../src/capture/pipeline-argv.ts';
import type { CapturePlan } from '../../src/capture/types.ts';
import { isRunning, type Spawned, spawnMeasured } from './children.ts';

/** ffplay of a moving test pattern over the whole second monitor (1280x720 at +1920+0). */
export async function startBusyScene(display: string, fps = 24): Promise<Spawned> {
  const player = await spawnMeasured(
    'ffplay',
    [
      ...['-hide_banner', '-loglevel', 'error', '-noborder'],
      ...['-left', '1920', '-top', '0', '-x', '1280', '-y', '720'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${fps}`],
    ],
    { env: { ...process.env, DISPLAY: display, SDL_AUDIODRIVER: 'dummy' } },
  );
  await sleep(2000);
  if (!isRunning(player)) throw new Error(`ffplay (busy scene) exited: ${player.stderr()}`);
  return player;
}

/** The argv the supervisor runs for `plan`, with the media fd replaced by `filesink location=file`. */
export function captureToFileArgs(plan: CapturePlan, file: string, options: { pictureTap?: boolean } = {}) {
  const argv = buildCaptureArgs(plan, options);
  const at = argv.indexOf(`fd=${MEDIA_FD}`);
  return [...argv.slice(0, at - 1), 'filesink', `location=${file}`, ...argv.slice(at + 1)];
}
