/**
 * The real thing: gst-launch-1.0 muxes H.264 into MPEG-TS on a pipe over two pipeline runs; the
 * supervisor's media path (LiveStream → publisher) turns them into one public playlist with
 * Low-Latency parts that ffprobe and ffmpeg read without an error.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { DEFAULT_CONFIG } from '../../src/config/schema.ts';
import { statfsUsage } from '../../src/hls/disk.ts';
import { nominalPartSeconds } from '../../src/hls/low-latency.ts';
import { createHlsPublisher, type LocalHlsPublisher } from '../../src/hls/publisher.ts';
import type { PublicSegment } from '../../src/hls/types.ts';
import { LiveStream } from '../../src/media/live-stream.ts';
import { encodedStreamArgs } from '../fixtures/encoded-stream.ts';

const run = promisify(execFile);
const FPS = 15;
const FRAMES_PER_RUN = 45; // 3 s at 15 fps → 1 s segments

/** One pipeline run, fed to the publisher the way the supervisor does it. */
async function pipelineRun(publisher: LocalHlsPublisher): Promise<Array<PublicSegment | null>> {
  await publisher.beginRun();
  const published: Array<Promise<PublicSegment | null>> = [];
  const stream = new LiveStream({
    fps: FPS,
    partSeconds: nominalPartSeconds(FPS),
    segmentSeconds: 1,
    now: Date.now,
    onPart: (part) => {
      const result = publisher.publishPart(part);
      if (part.endsSegment) published.push(result);
    },
  });
  const child = spawn(
    'gst-launch-1.0',
    [
      '-q',
      ...encodedStreamArgs(
        { fps: FPS, width: 320, height: 240, gop: 15, frames: FRAMES_PER_RUN, live: true },
        ['fdsink', 'fd=1', 'sync=false'],
      ),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => stream.push(chunk));
  try {
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 0, `gst-launch-1.0 failed: ${stderr}`);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  stream.end();
  await publisher.endRun();
  return Promise.all(published);
}

test('real mpegtsmux output over two runs makes one playlist ffprobe and ffmpeg read cleanly', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'hls-gst-'));
  const publisher = createHlsPublisher({
    config: {
      ...DEFAULT_CONFIG,
      output_dir: dir,
      segment_duration: 1,
      live_streaming: { ...DEFAULT_CONFIG.live_streaming, max_segments: 10 },
    },
    logger: pino({ level: 'silent' }),
    // Whatever this machine's /tmp looks like, keep all segments listed.
    diskUsage: async () => ({ usedPercent: 1 }),
  });
  t.after(async () => {
    await publisher.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await publisher.start();

  const first = await pipelineRun(publisher);
  const second = await pipelineRun(publisher);
  const segments = [...first, ...second].filter((s): s is PublicSegment => s !== null);
  assert.equal(segments.length, first.length + second.length, 'every closed fragment was published');
  assert.ok(first.length >= 3 && second.length >= 3, `segments per run: ${first.length}, ${second.length}`);
  assert.deepEqual(
    segments.map((s) => s.sequence),
    segments.map((_, i) => i),
  );
  assert.deepEqual(
    segments.map((s) => s.discontinuity),
    segments.map((_, i) => i === first.length),
  );
  for (const runSegments of [first, second]) {
    const frames = runSegments.reduce((sum, s) => sum + (s?.frames ?? 0), 0);
    // The newest frame is complete only when the next starts: at the end of a run it is dropped.
    assert.equal(frames, FRAMES_PER_RUN - 1, 'every complete frame was published');
  }

  const playlist = publisher.snapshot().playlistPath;
  const text = publisher.playlistText()!;
  assert.ok(!text.includes('ENDLIST'));
  for (const segment of segments) {
    assert.ok(Math.round(segment.durationSeconds) <= publisher.snapshot().targetDurationSeconds);
  }
  // Each segment file is exactly its parts, in order.
  const last = segments.at(-1)!;
  const partBytes = (last.parts ?? []).map((part) => publisher.partData(part.uri));
  assert.ok(partBytes.length >= 4 && partBytes.every((bytes) => bytes !== null));
  assert.deepEqual(
    await readFile(path.join(publisher.paths.publicDir, last.uri)),
    Buffer.concat(partBytes as Buffer[]),
  );
  assert.match(
    publisher.livePlaylistText()!,
    /#EXT-X-PART:DURATION=0\.\d{3},URI="seg-\d{9}\.p0\.ts",INDEPENDENT=YES/,
  );

  const probe = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', playlist],
    { timeout: 30_000 },
  );
  assert.equal(probe.stderr, '');
  const streams = (JSON.parse(probe.stdout) as { streams: Array<Record<string, unknown>> }).streams;
  assert.deepEqual(streams[0], { codec_name: 'h264', width: 320, height: 240 });

  // A live playlist: start at its first segment, stop after a few reloads that bring nothing new
  // (ffmpeg 5.1 needs at least 2, or it fails before the first segment).
  const decode = await run(
    'ffmpeg',
    [
      '-nostdin',
      '-v',
      'error',
      '-live_start_index',
      '0',
      '-m3u8_hold_counters',
      '3',
      '-i',
      playlist,
      '-f',
      'null',
      '-progress',
      'pipe:1',
      '-',
    ],
    { timeout: 60_000 },
  );
  const decodedFrames = [...decode.stdout.matchAll(/^frame=(\d+)$/gm)].at(-1)?.[1];
  assert.equal(Number(decodedFrames), 2 * (FRAMES_PER_RUN - 1), 'ffmpeg decoded every frame of both runs');
  assert.equal(decode.stderr, '', 'ffmpeg reported errors decoding the playlist');
});

test('statfsUsage agrees with df', async () => {
  const ours = await statfsUsage(tmpdir());
  const { stdout } = await run('df', ['--output=pcent', tmpdir()]);
  const dfPercent = Number(stdout.split('\n')[1]?.trim().replace('%', ''));
  assert.ok(ours.usedPercent >= 0 && ours.usedPercent <= 100);
  // df rounds up to the next integer; usage may move a little between the two calls.
  assert.ok(
    Math.abs(Math.ceil(ours.usedPercent) - dfPercent) <= 1,
    `statfs ${ours.usedPercent}%, df ${dfPercent}%`,
  );
});
