/**
 * Capture cost: our gst-launch-1.0 pipeline (argv from buildCaptureArgs, with and without the
 * picture tap, plus variants of it) against the ffmpeg x11grab baseline, side by side in one run on
 * the Xorg dummy rig: 1280x720 second monitor → 1280x720 H.264 HLS, 15 fps, 2000 kbit/s, keyframe
 * every 2 s. One process at a time; each warms up, then its CPU seconds (utime + stime from
 * /proc/<pid>/stat) are taken over the window; the frames it actually encoded are counted by
 * ffprobe in its segments. Order rotates and reverses from round to round.
 *
 *   node --import tsx bench/capture-cost.ts [--rounds 3] [--seconds 30] [--warmup 5]
 *       [--scenes static,busy] [--variants ours,ours+tap,ffmpeg]
 *
 * With XShm the X server copies each frame into shared memory, so part of the capture cost is in
 * Xorg: its CPU over the same window is recorded too (xorg_ms_per_frame; with nothing else drawing
 * on the static scene it is nearly all capture; on the busy scene it includes ffplay's drawing).
 *
 * Scenes: static = the rig as is (blue, ticking xclock); busy = ffplay showing lavfi testsrc2
 * (full-motion test card, 24 fps) borderless over the whole second monitor.
 * Variants: ours, ours+tap, ffmpeg, convert!scale, no-queue, threads=1, threads=auto, tap+convert!scale,
 * convert-fast (videoconvertscale dither=none chroma-mode=none), dither-none (dither=none only),
 * and for the breakdown capture-only (ximagesrc ! caps ! fakesink) and capture+convert (… up to the
 * I420 caps ! fakesink); these two write no segments, so their frames are taken as the nominal 15/s.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CapturePlan } from '../src/capture/types.ts';
import { capturePlan } from '../test/fixtures/capture-plan.ts';
import { startRig } from '../test/helpers/rig.ts';
import { captureToFileArgs, startBusyScene } from './lib/capture.ts';
import { endGracefully, isRunning, type Spawned, spawnMeasured } from './lib/children.ts';
import { loadAverage, machineBusySeconds, readProc, tryReadProc } from './lib/proc.ts';
import { writeResults } from './lib/results.ts';
import { summarizeSegments } from './lib/segments.ts';
import { median, round } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    scenes: { type: 'string', default: 'static,busy' },
    variants: { type: 'string', default: 'ours,ours+tap,ffmpeg' },
  },
});
const ROUNDS = Number(args.rounds);
const WINDOW_S = Number(args.seconds);
const WARMUP_S = Number(args.warmup);
const FPS = 15;
const BITRATE_KBPS = 2000;
const KEYFRAME_S = 2;
const SEGMENT_S = 2;
const BUSY_FPS = 24;

type Scene = 'static' | 'busy';
const SCENES = args.scenes.split(',') as Scene[];
for (const scene of SCENES) {
  if (scene !== 'static' && scene !== 'busy')
    throw new Error(`--scenes: unknown scene "${scene}"; allowed: static, busy`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- argv of each variant -------------------------------------------------------------------

function planFor(display: string): CapturePlan {
  return capturePlan({
    display,
    encoder: { element: 'x264enc', reason: 'bench' },
    fps: FPS,
    bitrateKbps: BITRATE_KBPS,
    keyframeIntervalSeconds: KEYFRAME_S,
    segmentDurationSeconds: SEGMENT_S,
  });
}

/** Replaces the first occurrence of `element` (an argv entry) by `replacement`. */
function replaceFirst(argv: string[], element: string, replacement: string[]): string[] {
  const at = argv.indexOf(element);
  if (at < 0) throw new Error(`variant: "${element}" not in the argv`);
  return [...argv.slice(0, at), ...replacement, ...argv.slice(at + 1)];
}

/** Drops the main chain's leaky queue (the first `queue … !`). */
function withoutQueue(argv: string[]): string[] {
  const at = argv.indexOf('queue');
  const bang = argv.indexOf('!', at);
  if (at < 0 || bang < 0) throw new Error('variant: no queue in the argv');
  return [...argv.slice(0, at), ...argv.slice(bang + 1)];
}

interface Variant {
  command: string;
  args: string[];
  extraFds: number;
  /** False for the cost-breakdown variants that write no segments: frames are then taken as nominal. */
  writesSegments?: boolean;
}

/** The argv up to (not including) the element `element`, ended by fakesink: where the cost goes. */
function truncatedAt(argv: string[], element: string): Variant {
  const at = argv.indexOf(element);
  if (at < 0) throw new Error(`variant: "${element}" not in the argv`);
  return {
    command: 'gst-launch-1.0',
    args: [...argv.slice(0, at), 'fakesink', 'sync=false'],
    extraFds: 0,
    writesSegments: false,
  };
}

function variantCommand(name: string, display: string, workDir: string): Variant {
  const plan = planFor(display);
  const toFile = (options: { pictureTap?: boolean } = {}) =>
    captureToFileArgs(plan, join(workDir, 'stream.ts'), options);

  const gst = (argv: string[], extraFds = 0): Variant => ({
    command: 'gst-launch-1.0',
    args: argv,
    extraFds,
  });
  const ours = toFile();
  const tapped = toFile({ pictureTap: true });
  switch (name) {
    case 'ours':
      return gst(ours);
    case 'ours+tap':
      return gst(tapped, 2);
    case 'convert!scale':
      return gst(replaceFirst(ours, 'videoconvertscale', ['videoconvert', '!', 'videoscale']));
    case 'tap+convert!scale':
      return gst(replaceFirst(tapped, 'videoconvertscale', ['videoconvert', '!', 'videoscale']), 2);
    case 'no-queue':
      return gst(withoutQueue(ours));
    case 'threads=1':
      return gst(replaceFirst(ours, 'threads=2', ['threads=1']));
    case 'threads=auto':
      return gst(replaceFirst(ours, 'threads=2', ['threads=0']));
    case 'convert-fast':
      // Same element, no dither and no chroma resampling filter (chroma sited by point sampling).
      return gst(
        replaceFirst(ours, 'videoconvertscale', ['videoconvertscale', 'dither=none', 'chroma-mode=none']),
      );
    case 'dither-none':
      return gst(replaceFirst(ours, 'videoconvertscale', ['videoconvertscale', 'dither=none']));
    case 'capture-only':
      return truncatedAt(ours, 'queue');
    case 'capture+convert':
      return truncatedAt(ours, 'watchdog');
    case 'ffmpeg':
      return {
        command: 'ffmpeg',
        // The baseline a user would pick; -draw_mouse 0 matches our show-pointer=false.
        args: [
          '-nostdin',
          '-hide_banner',
          '-loglevel',
          'error',
          '-f',
          'x11grab',
          '-draw_mouse',
          '0',
          '-framerate',
          String(FPS),
          '-video_size',
          '1280x720',
          '-i',
          `${display}+1920,0`,
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-tune',
          'zerolatency',
          '-b:v',
          `${BITRATE_KBPS}k`,
          '-maxrate',
          `${BITRATE_KBPS}k`,
          '-bufsize',
          `${BITRATE_KBPS}k`,
          '-g',
          String(FPS * KEYFRAME_S),
          '-pix_fmt',
          'yuv420p',
          '-f',
          'hls',
          '-hls_time',
          String(SEGMENT_S),
          '-hls_list_size',
          '0',
          '-hls_segment_filename',
          join(workDir, 'segment%05d.ts'),
          join(workDir, 'index.m3u8'),
        ],
        extraFds: 0,
      };
    default:
      throw new Error(
        `--variants: unknown variant "${name}"; allowed: ours, ours+tap, ffmpeg, convert!scale, tap+convert!scale, no-queue, threads=1, threads=auto, convert-fast, dither-none, capture-only, capture+convert`,
      );
  }
}

// --- one measured run -------------------------------------------------------------------------

interface Run {
  scene: Scene;
  variant: string;
  round: number;
  cpu_s: number;
  window_s: number;
  cpu_percent: number;
  fps_encoded: number;
  cpu_ms_per_frame: number;
  kbps: number;
  frames: number;
  keyframes: number;
  rss_mib: number;
  threads: number;
  machine_busy_percent: number;
  load1: number;
  scene_cpu_percent: number | null;
  xorg_ms_per_frame: number | null;
  /** Process + Xorg, ms per frame. */
  total_ms_per_frame: number | null;
}

async function measure(
  display: string,
  scene: Scene,
  variant: string,
  roundIndex: number,
  scenePid: number | null,
  xorgPid: number | null,
): Promise<Run> {
  const workDir = await mkdtemp(join(tmpdir(), 'ds-bench-capture-'));
  const spec = variantCommand(variant, display, workDir);
  let spawned: Spawned | null = null;
  try {
    spawned = await spawnMeasured(spec.command, spec.args, {
      extraFds: spec.extraFds,
      env: { ...process.env, DISPLAY: display },
    });
    await sleep(WARMUP_S * 1000);
    if (!isRunning(spawned)) throw new Error(`${variant} exited during warm-up: ${spawned.stderr()}`);
    const before = readProc(spawned.pid);
    const machineBefore = machineBusySeconds();
    const sceneBefore = scenePid === null ? null : tryReadProc(scenePid);
    const xorgBefore = xorgPid === null ? null : tryReadProc(xorgPid);
    await sleep(WINDOW_S * 1000);
    if (!isRunning(spawned)) throw new Error(`${variant} exited during the window: ${spawned.stderr()}`);
    const after = readProc(spawned.pid);
    const machineAfter = machineBusySeconds();
    const sceneAfter = scenePid === null ? null : tryReadProc(scenePid);
    const xorgAfter = xorgPid === null ? null : tryReadProc(xorgPid);
    await endGracefully(spawned);
    const windowS = (after.atMs - before.atMs) / 1000;
    const cpuS = after.cpuSeconds - before.cpuSeconds;
    const output =
      spec.writesSegments === false
        ? { frames: Math.round(windowS * FPS), streamSeconds: windowS, bytes: 0, keyframes: 0, segments: 0 }
        : summarizeSegments(workDir, FPS);
    if (output.frames === 0) throw new Error(`${variant} wrote no frames: ${spawned.stderr()}`);
    const fps = output.frames / output.streamSeconds;
    const machineTotal = machineAfter.total - machineBefore.total;
    const perFrameMs = (1000 * cpuS) / (windowS * fps);
    const xorgMs =
      xorgBefore && xorgAfter
        ? (1000 * (xorgAfter.cpuSeconds - xorgBefore.cpuSeconds)) / (windowS * fps)
        : null;
    return {
      scene,
      variant,
      round: roundIndex,
      cpu_s: round(cpuS),
      window_s: round(windowS, 1),
      cpu_percent: round((100 * cpuS) / windowS, 1),
      fps_encoded: round(fps),
      cpu_ms_per_frame: round(perFrameMs),
      kbps: round((output.bytes * 8) / 1000 / output.streamSeconds, 0),
      frames: output.frames,
      keyframes: output.keyframes,
      rss_mib: round(after.rssBytes / 1024 / 1024, 1),
      threads: after.threads,
      machine_busy_percent: round((100 * (machineAfter.busy - machineBefore.busy)) / machineTotal, 1),
      load1: loadAverage()[0],
      scene_cpu_percent:
        sceneBefore && sceneAfter
          ? round((100 * (sceneAfter.cpuSeconds - sceneBefore.cpuSeconds)) / windowS, 1)
          : null,
      xorg_ms_per_frame: xorgMs === null ? null : round(xorgMs),
      total_ms_per_frame: xorgMs === null ? null : round(perFrameMs + xorgMs),
    };
  } finally {
    if (spawned) await endGracefully(spawned);
    await rm(workDir, { recursive: true, force: true });
  }
}

/** pid of the rig's Xorg (virtual-desktop.sh keeps it in its state dir). */
function xorgPid(display: string): number | null {
  try {
    const pid = Number(readFileSync(`/tmp/desktop-streamer-rig-${display.slice(1)}/xorg.pid`, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

// --- main -------------------------------------------------------------------------------------

const variants = args.variants.split(',');
for (const name of variants) variantCommand(name, ':0', '/nonexistent'); // rejects unknown names up front

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const rig = await startRig();
const runs: Run[] = [];
let scenePlayer: Spawned | null = null;
process.once(
  'SIGINT',
  () =>
    void (scenePlayer ? endGracefully(scenePlayer) : Promise.resolve())
      .then(() => rig.stop())
      .then(() => process.exit(130)),
);
try {
  for (const scene of SCENES) {
    scenePlayer = scene === 'busy' ? await startBusyScene(rig.display, BUSY_FPS) : null;
    for (let r = 0; r < ROUNDS; r++) {
      const rotated = [...variants.slice(r % variants.length), ...variants.slice(0, r % variants.length)];
      const order = r % 2 === 1 ? rotated.reverse() : rotated;
      for (const variant of order) {
        const run = await measure(
          rig.display,
          scene,
          variant,
          r,
          scenePlayer?.pid ?? null,
          xorgPid(rig.display),
        );
        runs.push(run);
        console.error(JSON.stringify(run));
      }
    }
    if (scenePlayer) await endGracefully(scenePlayer, 3000);
    scenePlayer = null;
  }
} finally {
  if (scenePlayer) await endGracefully(scenePlayer, 3000);
  await rig.stop();
}

const summary = SCENES.flatMap((scene) => {
  const of = (variant: string) => runs.filter((r) => r.scene === scene && r.variant === variant);
  const baseline = median(of('ffmpeg').map((r) => r.cpu_ms_per_frame));
  const oursMs = median(of('ours').map((r) => r.cpu_ms_per_frame));
  return variants.map((variant) => {
    const rs = of(variant);
    const perFrame = median(rs.map((r) => r.cpu_ms_per_frame));
    return {
      scene,
      variant,
      runs: rs.length,
      cpu_ms_per_frame: round(perFrame),
      cpu_ms_per_frame_all: rs.map((r) => r.cpu_ms_per_frame),
      xorg_ms_per_frame: round(median(rs.map((r) => r.xorg_ms_per_frame ?? Number.NaN))),
      total_ms_per_frame: round(median(rs.map((r) => r.total_ms_per_frame ?? Number.NaN))),
      cpu_percent: round(median(rs.map((r) => r.cpu_percent)), 1),
      fps_encoded: round(median(rs.map((r) => r.fps_encoded))),
      kbps: round(median(rs.map((r) => r.kbps)), 0),
      rss_mib: round(median(rs.map((r) => r.rss_mib)), 1),
      vs_ffmpeg: Number.isNaN(baseline) ? null : round(perFrame / baseline),
      vs_ours: Number.isNaN(oursMs) ? null : round(perFrame / oursMs),
      machine_busy_percent: round(median(rs.map((r) => r.machine_busy_percent)), 1),
    };
  });
});
const command = `node --import tsx bench/capture-cost.ts --rounds ${ROUNDS} --seconds ${WINDOW_S} --warmup ${WARMUP_S} --scenes ${SCENES.join(',')} --variants ${variants.join(',')}`;
writeResults('capture-cost', { command, summary }, runs, stamp);
console.log(command);
console.log(
  '| scene | variant | CPU ms/frame (median) | runs (ms/frame) | + Xorg ms/frame | total ms/frame | CPU % of one core | fps encoded | kbit/s | RSS MiB | vs ffmpeg | vs ours | machine busy % |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const s of summary) {
  console.log(
    `| ${s.scene} | ${s.variant} | ${s.cpu_ms_per_frame} | ${s.cpu_ms_per_frame_all.join(', ')} | ${s.xorg_ms_per_frame} | ${s.total_ms_per_frame} | ${s.cpu_percent} | ${s.fps_encoded} | ${s.kbps} | ${s.rss_mib} | ${s.vs_ffmpeg ?? '–'} | ${s.vs_ours ?? '–'} | ${s.machine_busy_percent} |`,
  );
}
