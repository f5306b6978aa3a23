/**
 * Glass-to-playlist latency of the real supervisor on the rig: the blue window covering the second
 * monitor is unmapped (the black root shows) or mapped again at a known wall-clock time; the
 * playlist is polled every 50 ms; each newly listed segment is decoded (ffmpeg, 16x9 RGB per frame)
 * until the first frame showing the new state is found. Per change:
 *   listed − change     glass to playlist: when a player could first learn of the change
 *   frame PDT − change  EXT-X-PROGRAM-DATE-TIME + frame offset of the first changed frame, minus the
 *                       change time: how well the PDT matches the wall clock (≈ 0 … one frame
 *                       interval late when exact)
 *   listed − segment end (PDT + EXTINF): the publishing delay after the segment's end per its PDT
 *   hold-back           listed − the wall-clock end of the segment's content (change time − offset
 *                       of the changed frame + EXTINF): how long a finished segment waits (±1 frame)
 *
 *   node --import tsx bench/latency.ts [--durations 2,1] [--changes 8]
 *   node --import tsx bench/latency.ts --sinks [--durations 2,1]
 *
 * --sinks: where the hold-back comes from, without the supervisor: the same live x264 chain
 * (videotestsrc, 15 fps, keyframe every segment) into hlssink2 (what we use) and into the older
 * `mpegtsmux ! hlssink`, each playlist polled every 20 ms; per segment k, listed − (start +
 * (k+1)·duration), start = spawn time (so gst start-up, ≈ 0.1 s, counts as hold-back).
 *
 * keyframe_interval is set to the segment duration (segments are cut at keyframes).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../test/helpers/stack.ts';
import { loadAverage } from './lib/proc.ts';
import { writeResults } from './lib/results.ts';
import { median, percentile, round } from './lib/stats.ts';
import { type PlaylistEntry, parseMediaPlaylist } from './lib/viewer.ts';

const { values: args } = parseArgs({
  options: {
    durations: { type: 'string', default: '2,1' },
    changes: { type: 'string', default: '8' },
    sinks: { type: 'boolean', default: false },
  },
});
const DURATIONS = args.durations.split(',').map(Number);
const CHANGES = Number(args.changes);
const POLL_MS = 50;
const FPS = 15;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The rig's blue xclock window: the one at x = 1920. */
function blueWindow(display: string): string {
  const env = { ...process.env, DISPLAY: display };
  const ids = execFileSync('xdotool', ['search', '--class', 'xclock'], { env }).toString().trim().split('\n');
  for (const id of ids) {
    const geometry = execFileSync('xdotool', ['getwindowgeometry', id], { env }).toString();
    if (/Position: 1920,0/.test(geometry)) return id;
  }
  throw new Error(`no xclock window at +1920+0 on ${display} (windows: ${ids.join(', ')})`);
}

/** Per frame: is the picture mostly blue? (mean blue channel of a 16x9 thumbnail > 128). */
function framesBlue(segment: Buffer): boolean[] {
  const run = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', 'pipe:0', '-vf', 'scale=16:9,format=rgb24', '-f', 'rawvideo', 'pipe:1'],
    { input: segment, maxBuffer: 64 * 1024 * 1024, timeout: 30_000 },
  );
  if (run.status !== 0)
    throw new Error(`ffmpeg could not decode a segment: ${run.stderr.toString().slice(-300)}`);
  const frameBytes = 16 * 9 * 3;
  const out: boolean[] = [];
  for (let offset = 0; offset + frameBytes <= run.stdout.length; offset += frameBytes) {
    let blue = 0;
    for (let i = offset + 2; i < offset + frameBytes; i += 3) blue += run.stdout[i] as number;
    out.push(blue / (16 * 9) > 128);
  }
  return out;
}

interface Measurement {
  segment_duration: number;
  change: 'to-black' | 'to-blue';
  glass_to_playlist_ms: number;
  pdt_error_ms: number;
  listed_after_segment_end_ms: number;
  /** listed − the wall-clock end of the segment's content (change time − frame offset + EXTINF). */
  hold_back_ms: number;
  segment: string;
  extinf_s: number;
  frame_index: number;
}

async function measureDuration(segmentSeconds: number): Promise<Measurement[]> {
  const stack = await startStack({
    config: { segment_duration: segmentSeconds, keyframe_interval: segmentSeconds },
  });
  const playlistUrl = `${stack.baseUrl}/hls/desktop/playlist.m3u8`;
  const env = { ...process.env, DISPLAY: stack.display };
  const measurements: Measurement[] = [];
  try {
    await stack.waitForPlaylist((text) => (text.match(/\.ts/g) ?? []).length >= 3, 60_000);
    await sleep(2000);
    const window = blueWindow(stack.display);
    const listedAt = new Map<string, number>();
    const poll = async (): Promise<PlaylistEntry[]> => {
      const text = await (await fetch(playlistUrl)).text();
      const now = Date.now();
      const entries = parseMediaPlaylist(text);
      for (const e of entries) if (!listedAt.has(e.uri)) listedAt.set(e.uri, now);
      return entries;
    };
    await poll();
    let blue = true;
    for (let i = 0; i < CHANGES; i++) {
      // A random phase within the segment, so the figures average over where the change falls.
      await sleep(1000 + Math.random() * segmentSeconds * 1000);
      const before = new Set(listedAt.keys());
      execFileSync('xdotool', [blue ? 'windowunmap' : 'windowmap', '--sync', window], { env });
      const changedAt = Date.now();
      blue = !blue;
      const checked = new Set<string>();
      let found: Measurement | null = null;
      const deadline = Date.now() + 10 * segmentSeconds * 1000 + 10_000;
      while (!found && Date.now() < deadline) {
        const entries = await poll();
        for (const entry of entries) {
          if (before.has(entry.uri) || checked.has(entry.uri)) continue;
          checked.add(entry.uri);
          const body = Buffer.from(await (await fetch(new URL(entry.uri, playlistUrl))).arrayBuffer());
          const frames = framesBlue(body);
          const index = frames.indexOf(blue);
          if (index < 0) continue;
          if (entry.programDateMs === null)
            throw new Error(`segment ${entry.uri} has no EXT-X-PROGRAM-DATE-TIME`);
          const listed = listedAt.get(entry.uri) as number;
          found = {
            segment_duration: segmentSeconds,
            change: blue ? 'to-blue' : 'to-black',
            glass_to_playlist_ms: listed - changedAt,
            pdt_error_ms: round(entry.programDateMs + (index * 1000) / FPS - changedAt, 0),
            listed_after_segment_end_ms: round(listed - (entry.programDateMs + entry.duration * 1000), 0),
            hold_back_ms: round(listed - (changedAt - (index * 1000) / FPS + entry.duration * 1000), 0),
            segment: entry.uri,
            extinf_s: entry.duration,
            frame_index: index,
          };
          break;
        }
        if (!found) await sleep(POLL_MS);
      }
      if (!found)
        throw new Error(`change ${i} (${blue ? 'to blue' : 'to black'}) never showed up in a segment`);
      measurements.push(found);
      console.error(JSON.stringify(found));
    }
    if (!blue) execFileSync('xdotool', ['windowmap', '--sync', window], { env });
  } finally {
    await stack.stop();
  }
  return measurements;
}

/** Per segment of a bare gst chain: listed − content end, ms. */
async function sinkHoldBack(
  sink: 'hlssink2' | 'hlssink',
  segmentSeconds: number,
  segments: number,
): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'ds-bench-sink-'));
  const gop = FPS * segmentSeconds;
  const common = [
    'videotestsrc',
    'is-live=true',
    'pattern=ball',
    '!',
    `video/x-raw,width=1280,height=720,framerate=${FPS}/1`,
    '!',
    'videoconvert',
    '!',
    'video/x-raw,format=I420',
    '!',
    'x264enc',
    'tune=zerolatency',
    'speed-preset=ultrafast',
    `key-int-max=${gop}`,
    'bitrate=2000',
    '!',
    'h264parse',
    'config-interval=-1',
    '!',
  ];
  const tail = [
    `location=${dir}/s%05d.ts`,
    `playlist-location=${dir}/p.m3u8`,
    `target-duration=${segmentSeconds}`,
    'max-files=0',
    `playlist-length=${segments + 2}`,
  ];
  const argv =
    sink === 'hlssink2'
      ? [...common, 'hlssink2', ...tail]
      : [...common, 'mpegtsmux', '!', 'hlssink', ...tail];
  const started = Date.now();
  const child = spawn('gst-launch-1.0', ['-e', ...argv], { stdio: 'ignore' });
  const listed = new Map<number, number>();
  try {
    const deadline = started + (segments + 4) * segmentSeconds * 1000;
    while (listed.size < segments && Date.now() < deadline) {
      const text = await readFile(join(dir, 'p.m3u8'), 'utf8').catch(() => '');
      for (const m of text.matchAll(/s(\d{5})\.ts/g)) {
        const k = Number(m[1]);
        if (!listed.has(k)) listed.set(k, Date.now());
      }
      await sleep(20);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
  if (listed.size < segments)
    throw new Error(`${sink}: only ${listed.size} of ${segments} segments listed in time`);
  return [...listed]
    .sort((a, b) => a[0] - b[0])
    .map(([k, at]) => at - (started + (k + 1) * segmentSeconds * 1000));
}

if (args.sinks) {
  console.log(`node --import tsx bench/latency.ts --sinks --durations ${DURATIONS.join(',')}`);
  console.log('| segment duration | sink | listed − content end, ms, per segment | median |');
  console.log('| --- | --- | --- | --- |');
  for (const d of DURATIONS) {
    for (const sink of ['hlssink2', 'hlssink'] as const) {
      const holds = await sinkHoldBack(sink, d, 6);
      console.log(`| ${d} s | ${sink} | ${holds.join(', ')} | ${median(holds)} |`);
    }
  }
  process.exit(0);
}

const all: Measurement[] = [];
for (const duration of DURATIONS) all.push(...(await measureDuration(duration)));

const summary = DURATIONS.map((d) => {
  const ms = all.filter((m) => m.segment_duration === d);
  const pick = (
    key: 'glass_to_playlist_ms' | 'pdt_error_ms' | 'listed_after_segment_end_ms' | 'hold_back_ms',
  ) => ({
    min: Math.min(...ms.map((m) => m[key])),
    p50: median(ms.map((m) => m[key])),
    max: Math.max(...ms.map((m) => m[key])),
    p90: percentile(
      ms.map((m) => m[key]),
      90,
    ),
  });
  return {
    segment_duration: d,
    changes: ms.length,
    glass_to_playlist_ms: pick('glass_to_playlist_ms'),
    pdt_error_ms: pick('pdt_error_ms'),
    listed_after_segment_end_ms: pick('listed_after_segment_end_ms'),
    hold_back_ms: pick('hold_back_ms'),
  };
});
const command = `node --import tsx bench/latency.ts --durations ${DURATIONS.join(',')} --changes ${CHANGES}`;
writeResults('latency', { command, summary, load1_at_end: loadAverage()[0] }, all);
console.log(command);
console.log(
  '| segment_duration | changes | glass→playlist ms min / p50 / max | PDT error ms min / p50 / max | listed after segment end ms min / p50 / max | hold-back ms min / p50 / max |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const s of summary) {
  const f = (x: { min: number; p50: number; max: number }) =>
    `${round(x.min, 0)} / ${round(x.p50, 0)} / ${round(x.max, 0)}`;
  console.log(
    `| ${s.segment_duration} s | ${s.changes} | ${f(s.glass_to_playlist_ms)} | ${f(s.pdt_error_ms)} | ${f(s.listed_after_segment_end_ms)} | ${f(s.hold_back_ms)} |`,
  );
}
